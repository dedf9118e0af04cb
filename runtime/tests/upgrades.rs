//! The production chain's levers (`docs/security.md`, hole 15): a chain without sudo is
//! upgraded and administered by its compute-weighted governance and by the relay chain's
//! governance, and by nobody else. A runtime upgrade authorized by a passed proposal; the
//! collator, XCM and XCMP levers governed by a vote; the relay chain's `Superuser` as root,
//! which no sibling and no relay account can claim.
//!
//! `node/tests/launch.rs` enacts a real upgrade on a running chain with the production rules.

use gonka_runtime::{
	configs::xcm_config::{LocationToAccountId, XcmConfig, XcmOriginToTransactDispatchOrigin},
	Balances, Models, OriginCaller, Poc, Runtime, RuntimeCall, RuntimeEvent, RuntimeOrigin, System,
	GNK,
};
use pallet_models::Vote;
use polkadot_sdk::{
	cumulus_pallet_xcmp_queue,
	frame_support::{
		assert_noop, assert_ok,
		traits::{fungible::Mutate, Hooks, OriginTrait},
		weights::Weight,
	},
	frame_system, pallet_collator_selection, pallet_xcm,
	sp_core::H256,
	sp_genesis_builder::DEV_RUNTIME_PRESET,
	sp_keyring::Sr25519Keyring,
	sp_runtime::{traits::Dispatchable, DispatchError},
	staging_xcm::{latest::prelude::*, DoubleEncoded},
	staging_xcm_executor::{
		traits::{ConvertLocation, ConvertOrigin},
		XcmExecutor,
	},
};

mod common;
use common::chain_from_preset;

fn signed(key: Sr25519Keyring) -> RuntimeOrigin {
	RuntimeOrigin::signed(key.to_account_id())
}

/// Alice proposes `call`, both genesis hosts vote aye (passing is then certain) and Charlie
/// closes it; returns the dispatch result the proposal's `Executed` event reports.
fn pass(call: RuntimeCall) -> Result<(), DispatchError> {
	let index = pallet_models::ProposalCount::<Runtime>::get();
	assert_ok!(Models::propose(signed(Sr25519Keyring::Alice), Box::new(call)));
	for host in [Sr25519Keyring::Alice, Sr25519Keyring::Bob] {
		assert_ok!(Models::vote(signed(host), index, Vote::Aye));
	}
	let bound = Weight::from_parts(1_000_000_000_000, 1_000_000);
	assert_ok!(Models::close(signed(Sr25519Keyring::Charlie), index, bound, 2));
	System::events()
		.into_iter()
		.find_map(|record| match record.event {
			RuntimeEvent::Models(pallet_models::Event::Executed { index: i, result })
				if i == index =>
			{
				Some(result)
			}
			_ => None,
		})
		.expect("the proposal passed and its call was dispatched")
}

fn upgrade_authorized(code_hash: H256) -> bool {
	System::events().iter().any(|record| {
		record.event
			== RuntimeEvent::System(frame_system::Event::UpgradeAuthorized {
				code_hash,
				check_version: true,
			})
	})
}

/// A chain from the development preset in epoch 0, its genesis hosts holding the power.
fn chain() -> polkadot_sdk::sp_io::TestExternalities {
	let mut ext = chain_from_preset(DEV_RUNTIME_PRESET);
	ext.execute_with(|| Poc::on_initialize(1));
	ext
}

#[test]
fn a_runtime_upgrade_is_authorized_by_compute_weighted_governance() {
	chain().execute_with(|| {
		let code = b"the next runtime".to_vec();
		let code_hash = polkadot_sdk::sp_io::hashing::blake2_256(&code).into();
		// Nothing authorized: the code cannot be applied.
		let apply = |code: Vec<u8>| {
			RuntimeCall::System(frame_system::Call::apply_authorized_upgrade { code })
				.dispatch(signed(Sr25519Keyring::Ferdie))
				.map_err(|error| error.error)
		};
		assert_eq!(
			apply(code.clone()),
			Err(frame_system::Error::<Runtime>::NothingAuthorized.into())
		);
		// No account authorizes, a host with voting power included.
		assert_noop!(
			Models::authorize_upgrade(signed(Sr25519Keyring::Alice), code_hash),
			DispatchError::BadOrigin
		);
		// A passed proposal does, with the version check.
		let call = RuntimeCall::Models(pallet_models::Call::authorize_upgrade { code_hash });
		assert_eq!(pass(call), Ok(()));
		assert!(upgrade_authorized(code_hash));
		// Other code is still refused.
		assert_eq!(
			apply(b"another runtime".to_vec()),
			Err(frame_system::Error::<Runtime>::Unauthorized.into())
		);
	});
}

#[test]
fn collator_selection_and_xcm_are_governed_by_a_vote_not_by_a_signed_account() {
	chain().execute_with(|| {
		// Each lever refuses a signed account and takes a passed proposal (its call
		// dispatched with the `ComputeMajority` origin succeeds).
		let levers = [
			RuntimeCall::CollatorSelection(
				pallet_collator_selection::Call::set_desired_candidates { max: 7 },
			),
			RuntimeCall::XcmpQueue(cumulus_pallet_xcmp_queue::Call::suspend_xcm_execution {}),
			RuntimeCall::PolkadotXcm(pallet_xcm::Call::force_default_xcm_version {
				maybe_xcm_version: Some(4),
			}),
		];
		for call in levers {
			assert_noop!(
				call.clone().dispatch(signed(Sr25519Keyring::Alice)),
				DispatchError::BadOrigin
			);
			assert_eq!(pass(call.clone()), Ok(()), "{call:?}");
		}
		assert_eq!(pallet_collator_selection::DesiredCandidates::<Runtime>::get(), 7);
	});
}

/// Executes `message` as if `origin` had sent it.
fn execute(origin: Location, message: Xcm<RuntimeCall>) -> Outcome {
	let mut hash = [0u8; 32];
	XcmExecutor::<XcmConfig>::prepare_and_execute(
		origin,
		message,
		&mut hash,
		Weight::from_parts(1_000_000_000_000, 1_000_000),
		Weight::zero(),
	)
}

/// An unpaid `Transact` of `call` with `origin_kind`.
fn transact(origin_kind: OriginKind, call: RuntimeCall) -> Xcm<RuntimeCall> {
	Xcm(vec![
		UnpaidExecution { weight_limit: Unlimited, check_origin: None },
		Transact {
			origin_kind,
			fallback_max_weight: None,
			call: DoubleEncoded::from(codec::Encode::encode(&call)),
		},
	])
}

#[test]
fn the_relay_chain_governs_as_superuser_and_no_sibling_or_relay_account_can() {
	chain().execute_with(|| {
		let code_hash = H256::repeat_byte(9);
		let call = RuntimeCall::System(frame_system::Call::authorize_upgrade { code_hash });
		// A sibling parachain claiming to be a superuser: unpaid execution is the relay
		// chain's only, and no origin converts.
		let sibling = Location::new(1, [Parachain(2_001)]);
		assert!(!matches!(
			execute(sibling, transact(OriginKind::Superuser, call.clone())),
			Outcome::Complete { .. }
		));
		// An account of the relay chain: its origin is its own, not the relay chain's.
		let account = Location::new(
			1,
			[AccountId32 { network: None, id: Sr25519Keyring::Alice.to_raw_public() }],
		);
		assert!(!matches!(
			execute(account, transact(OriginKind::Superuser, call.clone())),
			Outcome::Complete { .. }
		));
		// The relay chain as itself (`Native`) is not root either.
		execute(Location::parent(), transact(OriginKind::Native, call.clone()));
		assert!(!upgrade_authorized(code_hash), "only the relay chain's superuser is root");
		// The relay chain's governance (`Superuser`) is.
		let outcome = execute(Location::parent(), transact(OriginKind::Superuser, call));
		assert!(matches!(outcome, Outcome::Complete { .. }), "{outcome:?}");
		assert!(upgrade_authorized(code_hash));
	});
}

/// Whether `location`, claiming origin kind `kind`, becomes root here.
fn converts_to_root(location: &Location, kind: OriginKind) -> bool {
	<XcmOriginToTransactDispatchOrigin as ConvertOrigin<RuntimeOrigin>>::convert_origin(
		location.clone(),
		kind,
	)
	.is_ok_and(|origin| {
		matches!(origin.into_caller(), OriginCaller::system(frame_system::RawOrigin::Root))
	})
}

#[test]
fn no_origin_but_the_relay_chain_converts_to_root() {
	chain().execute_with(|| {
		let alice = Sr25519Keyring::Alice.to_raw_public();
		let others = [
			Location::here(),
			Location::new(0, [AccountId32 { network: None, id: alice }]),
			Location::new(1, [Parachain(2_001)]),
			Location::new(1, [AccountId32 { network: None, id: alice }]),
			Location::new(1, [Plurality { id: BodyId::Executive, part: BodyPart::Voice }]),
			Location::new(1, [Parachain(1_000), PalletInstance(50)]),
			Location::new(2, [GlobalConsensus(NetworkId::Kusama)]),
		];
		let kinds = [
			OriginKind::Native,
			OriginKind::SovereignAccount,
			OriginKind::Superuser,
			OriginKind::Xcm,
		];
		for location in &others {
			for kind in kinds {
				assert!(!converts_to_root(location, kind), "{location:?} as {kind:?}");
			}
		}
		assert!(converts_to_root(&Location::parent(), OriginKind::Superuser));
		assert!(!converts_to_root(&Location::parent(), OriginKind::Native));

		// Past the barrier too: the relay chain's Executive body may execute unpaid, and a
		// sibling that pays may execute; neither's `Superuser` claim authorizes anything.
		let code_hash = H256::repeat_byte(3);
		let call = RuntimeCall::System(frame_system::Call::authorize_upgrade { code_hash });
		let executive =
			Location::new(1, [Plurality { id: BodyId::Executive, part: BodyPart::Voice }]);
		execute(executive, transact(OriginKind::Superuser, call.clone()));
		let sibling = Location::new(1, [Parachain(2_001)]);
		let sovereign =
			LocationToAccountId::convert_location(&sibling).expect("a sibling's sovereign account");
		assert_ok!(<Balances as Mutate<_>>::mint_into(&sovereign, 1_000 * GNK));
		let fees: Asset = (Location::here(), 100 * GNK).into();
		let paid = Xcm(vec![
			WithdrawAsset(fees.clone().into()),
			BuyExecution { fees, weight_limit: Unlimited },
			Transact {
				origin_kind: OriginKind::Superuser,
				fallback_max_weight: None,
				call: DoubleEncoded::from(codec::Encode::encode(&call)),
			},
		]);
		let outcome = execute(sibling, paid);
		assert!(
			matches!(outcome, Outcome::Incomplete { .. }),
			"the paid message runs up to its Transact, which fails: {outcome:?}"
		);
		assert!(!upgrade_authorized(code_hash));
	});
}
