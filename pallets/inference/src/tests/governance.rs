//! Governance of the rules.

use super::*;
use gonka_primitives::inference::{self as rules, Sprt};
use polkadot_sdk::{frame_support::assert_noop, sp_runtime::DispatchError};

#[test]
fn governance_sets_the_rules_and_bad_rules_are_refused() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let params = InferenceParams { refusal_timeout: 5, ..test_params() };
		assert_noop!(
			Inference::set_params(RuntimeOrigin::signed(account(1)), params),
			DispatchError::BadOrigin
		);
		assert_ok!(Inference::set_params(RuntimeOrigin::root(), params));
		assert_eq!(Params::<Test>::get(), params);
		assert!(events().contains(&Event::ParamsSet { params }));
		let refused = [
			(InferenceParams { vote_window: 0, ..params }, Error::<Test>::ZeroWindow),
			(
				InferenceParams { refusal_timeout: 10, ..params },
				Error::<Test>::RefusalNotBeforeExpiration,
			),
			(
				InferenceParams {
					price_rule: rules::PriceRule {
						lower: Perbill::from_percent(70),
						..params.price_rule
					},
					..params
				},
				Error::<Test>::BadPriceRule,
			),
			(InferenceParams { min_price: 0, ..params }, Error::<Test>::ZeroFloor),
			(InferenceParams { block_capacity: 0, ..params }, Error::<Test>::ZeroCapacity),
			(
				InferenceParams {
					sprt: SprtParams { p1: Perbill::from_percent(5), ..params.sprt },
					..params
				},
				Error::<Test>::BadSprt,
			),
		];
		for (bad, error) in refused {
			assert_noop!(Inference::set_params(RuntimeOrigin::root(), bad), error);
		}
	});
}

#[test]
fn the_default_rules_are_the_live_networks() {
	ExtBuilder::default().build_and_execute(|| {
		let live = InferenceParams::<u64>::live_network();
		assert_eq!(live.expiration, 150);
		assert_eq!(live.min_price, 1);
		assert_eq!(live.price_rule, rules::PriceRule::live_network());
		assert_eq!(live.sprt.sprt(), Some(Sprt::live_network()));
		assert_eq!(live.check(), Ok(()));
	});
}
