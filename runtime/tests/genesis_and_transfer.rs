//! The runtime's genesis presets build a working chain (collators, funded accounts, PoC
//! hosts and epochs), and a balance transfer dispatches.

use gonka_runtime::{
	configs::{HostDeposit, DEFAULT_MODEL},
	genesis_config_presets::{
		get_preset, preset_names, DEV_ACCOUNT_BALANCE, DEV_EPOCH, LOCAL_TESTNET_EPOCH,
		PRODUCTION_RUNTIME_PRESET,
	},
	AccountId, Balances, ParachainInfo, Poc, Runtime, RuntimeCall, RuntimeEvent, RuntimeOrigin,
	System, EXISTENTIAL_DEPOSIT, GNK, PARACHAIN_ID,
};
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		dispatch::GetDispatchInfo,
		traits::{fungible::Inspect, Hooks, UnfilteredDispatchable},
	},
	sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET},
	sp_keyring::Sr25519Keyring,
	sp_runtime::TokenError,
	*,
};

mod common;
use common::chain_from_preset;

fn account(key: Sr25519Keyring) -> AccountId {
	key.to_account_id()
}

#[test]
fn presets_are_development_local_testnet_and_production() {
	assert_eq!(
		preset_names(),
		vec![
			DEV_RUNTIME_PRESET.to_string(),
			LOCAL_TESTNET_RUNTIME_PRESET.to_string(),
			PRODUCTION_RUNTIME_PRESET.to_string()
		]
	);
	assert!(get_preset(&PresetId::from("no_such_preset")).is_none());
}

/// The production preset, as JSON: every rule at the live network's value, the community
/// pool's 120 M and nothing else (no sudo key, no collators, hosts, founders or models:
/// the launch ceremony adds those).
#[test]
fn the_production_preset_has_the_live_rules_the_pool_and_no_sudo() {
	let patch: serde_json::Value = serde_json::from_slice(
		&get_preset(&PresetId::from(PRODUCTION_RUNTIME_PRESET)).expect("the preset exists"),
	)
	.expect("JSON");
	assert_eq!(
		patch["poc"]["epochParams"],
		serde_json::to_value(pallet_poc::EpochParams::<u32>::live_network()).unwrap()
	);
	assert_eq!(patch["poc"]["epochParams"]["epochLength"], 15_391);
	assert_eq!(
		patch["models"]["governance"],
		serde_json::to_value(pallet_models::GovernanceParams::<u32>::live_network()).unwrap()
	);
	assert_eq!(patch["models"]["governance"]["votingPeriod"], 28_800, "48 h of 6-second blocks");
	assert_eq!(
		patch["rewards"]["params"],
		serde_json::to_value(pallet_rewards::RewardParams::live_network()).unwrap()
	);
	assert_eq!(patch["rewards"]["params"]["vestingEpochs"], 180);
	// The live curve (323,000 GNK first) is the pallet's default: no override.
	assert!(patch["rewards"].get("curve").is_none_or(serde_json::Value::is_null));
	// No sudo key: `null`, or left out.
	assert!(patch["sudo"].get("key").is_none_or(serde_json::Value::is_null), "{}", patch["sudo"]);
	let pool = gonka_runtime::configs::CommunityPool::get();
	assert_eq!(
		patch["balances"]["balances"],
		serde_json::json!([[pool.to_string(), gonka_primitives::issuance::COMMUNITY_POOL]])
	);
	for (pallet, field) in [
		("collatorSelection", "invulnerables"),
		("session", "keys"),
		("poc", "hosts"),
		("models", "models"),
		("vesting", "vesting"),
	] {
		assert!(
			patch[pallet].get(field).is_none_or(|v| v.as_array().is_some_and(Vec::is_empty)),
			"{pallet}.{field}: {}",
			patch[pallet][field]
		);
	}
	assert_eq!(patch["parachainInfo"]["parachainId"], PARACHAIN_ID);
}

#[test]
fn every_preset_builds_a_chain_with_sudo_collators_and_funded_dev_accounts() {
	for name in [DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET] {
		chain_from_preset(name).execute_with(|| {
			assert_eq!(
				pallet_sudo::Key::<Runtime>::get(),
				Some(account(Sr25519Keyring::Alice)),
				"{name}: sudo"
			);
			assert_eq!(
				pallet_collator_selection::Invulnerables::<Runtime>::get().into_inner(),
				// Kept sorted by account id.
				vec![account(Sr25519Keyring::Bob), account(Sr25519Keyring::Alice)],
				"{name}: collators"
			);
			// Session (and so Aura) orders its validators by account id.
			let aura: Vec<_> = pallet_aura::Authorities::<Runtime>::get().into_inner();
			assert_eq!(
				aura,
				vec![Sr25519Keyring::Bob.public().into(), Sr25519Keyring::Alice.public().into()],
				"{name}: aura authorities"
			);
			assert_eq!(u32::from(ParachainInfo::parachain_id()), PARACHAIN_ID, "{name}: para id");
			// Alice and Bob hold part of it as their host deposit.
			for key in Sr25519Keyring::well_known() {
				assert_eq!(
					<Balances as Inspect<_>>::total_balance(&account(key)),
					DEV_ACCOUNT_BALANCE,
					"{name}: {key:?}"
				);
			}
			let dev_accounts = Sr25519Keyring::well_known().count() as u128;
			// The community pool's 120 M and the founders' 200 M besides the dev accounts.
			assert_eq!(
				Balances::total_issuance(),
				dev_accounts * DEV_ACCOUNT_BALANCE
					+ gonka_primitives::issuance::COMMUNITY_POOL
					+ gonka_primitives::issuance::FOUNDERS,
				"{name}: issuance"
			);
		});
	}
}

#[test]
fn presets_register_alice_and_bob_as_hosts_with_short_poc_epochs() {
	for (name, epoch) in
		[(DEV_RUNTIME_PRESET, DEV_EPOCH), (LOCAL_TESTNET_RUNTIME_PRESET, LOCAL_TESTNET_EPOCH)]
	{
		chain_from_preset(name).execute_with(|| {
			for (host, worker, port) in [
				(Sr25519Keyring::Alice, Sr25519Keyring::AliceStash, 8400),
				(Sr25519Keyring::Bob, Sr25519Keyring::BobStash, 8401),
			] {
				let view = Poc::host_view(&account(host)).expect("a genesis host");
				assert_eq!(view.worker_key, worker.public(), "{name}: {host:?} worker key");
				assert_eq!(view.endpoint, format!("http://127.0.0.1:{port}").into_bytes());
				assert_eq!(view.models, vec![DEFAULT_MODEL], "{name}: {host:?} models");
				// Bootstrap: genesis hosts have equal power.
				assert_eq!(view.voting_power, 1, "{name}: {host:?} power");
				assert_eq!(
					Balances::free_balance(account(host)),
					DEV_ACCOUNT_BALANCE - HostDeposit::get(),
					"{name}: {host:?} deposit held"
				);
			}
			assert_eq!(pallet_poc::TotalVotingPower::<Runtime>::get(), 2, "{name}");

			// The first block starts epoch 0 with the preset's phases.
			Poc::on_initialize(1);
			let (info, _) = Poc::epoch_and_next_phase().expect("epoch 0 started");
			assert_eq!((info.index, info.start, info.params), (0, 1, epoch), "{name}");
		});
	}
	// An epoch on the dev chain is well under a minute at its 3-second blocks.
	const { assert!(DEV_EPOCH.epoch_length * 3 < 60) };
}

#[test]
fn balance_transfer_dispatches_and_emits_its_event() {
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		// Charlie: no deposit held, so all of the balance is free.
		let (charlie, dave) = (account(Sr25519Keyring::Charlie), account(Sr25519Keyring::Dave));
		let amount = 42 * GNK;
		let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: dave.clone().into(),
			value: amount,
		});
		assert!(
			call.get_dispatch_info().call_weight.ref_time() > 0,
			"weights come from benchmarks"
		);
		assert_ok!(call.dispatch_bypass_filter(RuntimeOrigin::signed(charlie.clone())));

		assert_eq!(Balances::free_balance(&charlie), DEV_ACCOUNT_BALANCE - amount);
		assert_eq!(Balances::free_balance(&dave), DEV_ACCOUNT_BALANCE + amount);
		System::assert_last_event(RuntimeEvent::Balances(pallet_balances::Event::Transfer {
			from: charlie,
			to: dave,
			amount,
		}));
	});
}

#[test]
fn transfer_beyond_the_balance_fails_and_moves_nothing() {
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let (charlie, dave) = (account(Sr25519Keyring::Charlie), account(Sr25519Keyring::Dave));
		let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: dave.clone().into(),
			value: DEV_ACCOUNT_BALANCE + 1,
		});
		assert_noop!(
			call.dispatch_bypass_filter(RuntimeOrigin::signed(charlie.clone())),
			TokenError::FundsUnavailable
		);
		// Leaving less than the existential deposit with keep-alive is refused too.
		let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: dave.into(),
			value: DEV_ACCOUNT_BALANCE - EXISTENTIAL_DEPOSIT + 1,
		});
		assert_noop!(
			call.dispatch_bypass_filter(RuntimeOrigin::signed(charlie.clone())),
			// Keep-alive: the transfer would reap the account.
			TokenError::NotExpendable
		);
		assert_eq!(Balances::free_balance(&charlie), DEV_ACCOUNT_BALANCE);
	});
}

#[test]
fn token_is_gnk_with_nine_decimals() {
	assert_eq!(gonka_runtime::TOKEN_SYMBOL, "GNK");
	assert_eq!(gonka_runtime::TOKEN_DECIMALS, 9);
	assert_eq!(GNK, 10u128.pow(gonka_runtime::TOKEN_DECIMALS));
}
