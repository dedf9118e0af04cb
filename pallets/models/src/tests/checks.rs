//! Bad input: invalid records and governance parameters are refused, oversized fields do
//! not decode; the default genesis has the live network's rules.

use super::*;

/// Makes a valid record invalid in one field.
type Spoil = fn(&mut ModelRecordOf<Test>);

#[test]
fn bad_records_are_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let cases: Vec<(Spoil, Error<Test>)> = vec![
			(|r| r.name = Default::default(), Error::<Test>::EmptyName),
			(|r| r.poc.seq_len = 0, Error::<Test>::ZeroSeqLen),
			(|r| r.coefficient = FixedU128::from_u32(0), Error::<Test>::ZeroCoefficient),
			(|r| r.poc.dist_threshold = Perbill::zero(), Error::<Test>::ZeroDistThreshold),
			(|r| r.poc.p_mismatch = Perbill::zero(), Error::<Test>::InvalidProbability),
			(|r| r.poc.p_mismatch = Perbill::one(), Error::<Test>::InvalidProbability),
			(|r| r.poc.p_value = Perbill::one(), Error::<Test>::InvalidProbability),
			(|r| r.validation_threshold = Perbill::zero(), Error::<Test>::ZeroValidationThreshold),
			(|r| r.max_context = 0, Error::<Test>::InvalidContext),
			(|r| r.template_overhead = r.max_context, Error::<Test>::InvalidContext),
			(|r| r.price = 0, Error::<Test>::ZeroPrice),
			(|r| r.end_tokens = vec![2, 0].try_into().unwrap(), Error::<Test>::UnsortedEndTokens),
			(|r| r.end_tokens = vec![2, 2].try_into().unwrap(), Error::<Test>::UnsortedEndTokens),
		];
		for (spoil, error) in cases {
			let error = DispatchError::from(error);
			let mut bad = record("bad");
			spoil(&mut bad);
			assert_noop!(Models::register_model(root(), bad.clone()), error);
			assert_noop!(Models::update_model(root(), 0, bad), error);
		}
	});
}

#[test]
fn oversized_fields_do_not_decode() {
	ExtBuilder::default().build_and_execute(|| {
		// A call whose name is one byte over the bound: the same encoding as the
		// register call with a plain vector, which the runtime refuses to decode.
		let call = register_call("n");
		let mut encoded = call.encode();
		let name_at = 2; // pallet index, call index
		let long = vec![b'x'; 65];
		encoded.splice(name_at..name_at + 2, long.encode());
		assert!(<RuntimeCall as codec::Decode>::decode(&mut &encoded[..]).is_err());
		let fits = vec![b'x'; 64];
		let mut encoded = register_call("n").encode();
		encoded.splice(name_at..name_at + 2, fits.encode());
		assert!(<RuntimeCall as codec::Decode>::decode(&mut &encoded[..]).is_ok());
	});
}

#[test]
fn governance_params_are_checked() {
	ExtBuilder::default().build_and_execute(|| {
		let invalid = [
			GovernanceParams { voting_period: 0, ..governance() },
			GovernanceParams { quorum: Perbill::zero(), ..governance() },
			GovernanceParams { threshold: Perbill::one(), ..governance() },
			GovernanceParams { veto_threshold: Perbill::zero(), ..governance() },
		];
		for params in invalid {
			assert_noop!(
				Models::set_governance_params(root(), params),
				Error::<Test>::InvalidGovernanceParams
			);
		}
		let params = GovernanceParams { voting_period: 3, ..governance() };
		assert_ok!(Models::set_governance_params(root(), params));
		assert_eq!(Governance::<Test>::get(), Some(params));
		assert!(events().contains(&Event::GovernanceParamsSet { params }));
	});
}

#[test]
fn the_default_genesis_has_the_live_networks_rules() {
	// What a chain without a test preset (production) starts with: 48 hours of
	// 6-second blocks, quorum 25%, threshold > 50%, veto 33.4%.
	ExtBuilder::default().build_and_execute(|| {
		let params = GenesisConfig::<Test>::default().governance;
		assert_eq!(params.voting_period, 48 * 60 * 60 / 6);
		assert_eq!(params.quorum, Perbill::from_percent(25));
		assert_eq!(params.threshold, Perbill::from_percent(50));
		assert_eq!(params.veto_threshold, Perbill::from_parts(334_000_000));
		assert!(Models::check_governance(&params).is_ok());
	});
}
