//! Governance on the runtime: the development preset's registry and rules, a model
//! registered by a vote of the genesis hosts and approved at the next epoch start, PoC
//! parameters set by a vote instead of sudo, and a vetoed deposit paid to the community
//! pool.

use gonka_runtime::{
	configs::{CommunityPool, ProposalDeposit, DEFAULT_MODEL},
	genesis_config_presets::{default_model, DEV_EPOCH, DEV_VOTING_PERIOD},
	AccountId, Balances, Models, Poc, Runtime, RuntimeCall, RuntimeEvent, RuntimeOrigin, System,
};
use pallet_models::{ModelRegistry, ModelStatus, Outcome, Vote};
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::{fungible::InspectHold, Hooks},
		weights::Weight,
	},
	sp_genesis_builder::DEV_RUNTIME_PRESET,
	sp_keyring::Sr25519Keyring,
	sp_runtime::{traits::Dispatchable, DispatchError},
};

mod common;
use common::chain_from_preset;

fn signed(key: Sr25519Keyring) -> RuntimeOrigin {
	RuntimeOrigin::signed(key.to_account_id())
}

fn models_events() -> Vec<pallet_models::Event<Runtime>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Models(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// Runs blocks up to `n` (PoC's hook included: it starts epochs and applies the registry).
fn run_to(n: u32) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Poc::on_initialize(next);
	}
}

/// Alice proposes `call`; the two genesis hosts vote `vote`.
fn propose_and_vote(call: RuntimeCall, vote: Vote) -> u32 {
	let index = pallet_models::ProposalCount::<Runtime>::get();
	assert_ok!(Models::propose(signed(Sr25519Keyring::Alice), Box::new(call)));
	for host in [Sr25519Keyring::Alice, Sr25519Keyring::Bob] {
		assert_ok!(Models::vote(signed(host), index, vote));
	}
	index
}

fn close(index: u32) {
	let bound = Weight::from_parts(1_000_000_000_000, 1_000_000);
	assert_ok!(Models::close(signed(Sr25519Keyring::Charlie), index, bound, 2));
}

fn outcome(index: u32) -> Outcome {
	models_events()
		.into_iter()
		.find_map(|event| match event {
			pallet_models::Event::Closed { index: closed, outcome, .. } if closed == index => {
				Some(outcome)
			}
			_ => None,
		})
		.expect("the proposal closed")
}

#[test]
fn the_development_preset_approves_the_default_model_and_votes_in_ten_blocks() {
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		assert!(Models::is_approved(DEFAULT_MODEL));
		assert_eq!(Models::approved(DEFAULT_MODEL), Some(default_model()));
		// The genesis hosts serve approved models only (PoC's genesis does not check it).
		for (host, ..) in gonka_runtime::genesis_config_presets::dev_hosts() {
			let view = Poc::host_view(&host).expect("a genesis host");
			assert!(view.models.iter().all(|model| Models::is_approved(*model)));
		}
		let governance = pallet_models::Governance::<Runtime>::get().expect("set at genesis");
		assert_eq!(governance.voting_period, DEV_VOTING_PERIOD);
		assert_eq!(governance.quorum, polkadot_sdk::sp_runtime::Perbill::from_percent(25));
		assert_eq!(pallet_models::NextModelId::<Runtime>::get(), 1);
	});
}

#[test]
fn the_genesis_hosts_register_a_model_that_the_next_epoch_approves() {
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		// Epoch 0 starts in block 1.
		Poc::on_initialize(1);
		let mut record = default_model();
		record.name = b"SmolLM2-360M-Instruct".to_vec().try_into().unwrap();
		record.weights_digest = [7; 32];
		let call =
			RuntimeCall::Models(pallet_models::Call::register_model { record: record.clone() });
		let index = propose_and_vote(call, Vote::Aye);
		let alice: AccountId = Sr25519Keyring::Alice.to_account_id();
		let held = <Balances as InspectHold<AccountId>>::balance_on_hold(
			&gonka_runtime::RuntimeHoldReason::Models(pallet_models::HoldReason::ProposalDeposit),
			&alice,
		);
		assert_eq!(held, ProposalDeposit::get());
		// The snapshot is PoC's genesis generation of voting power, held while it is open.
		let snapshot = pallet_models::Proposals::<Runtime>::get(index).expect("open").snapshot;
		assert_eq!(snapshot.generation, 0);
		let pins = || pallet_poc::PowerGenerations::<Runtime>::get(0).expect("kept").pins;
		assert_eq!(pins(), 1);
		// Both hosts said aye: passing is certain, so it closes before the period ends.
		close(index);
		assert_eq!(pins(), 0);
		assert_eq!(outcome(index), Outcome::Passed);
		assert!(models_events().contains(&pallet_models::Event::Executed { index, result: Ok(()) }));
		let info = pallet_models::Registry::<Runtime>::get(1).expect("registered");
		assert_eq!((info.status, info.record), (ModelStatus::Proposed, record));
		assert!(!Models::is_approved(1));
		// Epoch 1 starts at block 1 + 16.
		run_to(1 + DEV_EPOCH.epoch_length);
		assert!(Models::is_approved(1));
		assert!(
			models_events().contains(&pallet_models::Event::ModelApproved { model: 1, epoch: 1 })
		);
	});
}

#[test]
fn poc_parameters_are_set_by_a_vote_not_by_a_signed_account() {
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		// Epoch 0 starts in block 1.
		Poc::on_initialize(1);
		let params = pallet_poc::EpochParams { epoch_length: 20, ..DEV_EPOCH };
		let call = RuntimeCall::Poc(pallet_poc::Call::set_epoch_params { params });
		assert_noop!(
			call.clone().dispatch(signed(Sr25519Keyring::Alice)),
			DispatchError::BadOrigin
		);
		let index = propose_and_vote(call, Vote::Aye);
		close(index);
		assert!(models_events().contains(&pallet_models::Event::Executed { index, result: Ok(()) }));
		assert_eq!(pallet_poc::NextEpochParams::<Runtime>::get(), Some(params));
	});
}

/// The channels' rules (`docs/channels.md`) are set by a compute-weighted vote too.
#[test]
fn channel_rules_are_set_by_a_vote_not_by_a_signed_account() {
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		Poc::on_initialize(1);
		let params = pallet_channels::ChannelParams {
			open_fee: 0,
			max_channel_blocks: 100,
			settle_window: 40,
		};
		let call = RuntimeCall::Channels(pallet_channels::Call::set_params { params });
		assert_noop!(
			call.clone().dispatch(signed(Sr25519Keyring::Alice)),
			DispatchError::BadOrigin
		);
		let index = propose_and_vote(call, Vote::Aye);
		close(index);
		assert!(models_events().contains(&pallet_models::Event::Executed { index, result: Ok(()) }));
		assert_eq!(pallet_channels::Params::<Runtime>::get(), params);
	});
}

#[test]
fn a_vetoed_proposal_pays_its_deposit_to_the_community_pool() {
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		// Epoch 0 starts in block 1.
		Poc::on_initialize(1);
		let pool = Balances::free_balance(CommunityPool::get());
		let call = RuntimeCall::Models(pallet_models::Call::retire_model { model: DEFAULT_MODEL });
		let index = propose_and_vote(call, Vote::Veto);
		run_to(1 + DEV_VOTING_PERIOD);
		close(index);
		assert_eq!(outcome(index), Outcome::Vetoed);
		assert_eq!(Balances::free_balance(CommunityPool::get()), pool + ProposalDeposit::get());
		assert!(Models::is_approved(DEFAULT_MODEL));
	});
}
