//! Inference channels on the runtime with the development preset: Charlie opens a channel
//! on the default model, its committee is drawn from the two genesis hosts, a member
//! settles through the runtime's `authorize` path with Charlie's voucher and a tail claim,
//! and is paid into `pallet-inference`'s ledger of pending work (its first settlement's
//! fee was prepaid with the channel's), released when the epoch's ledger settles; the channel is
//! finalized and the rest of the escrow refunded. The runtime API reads it all back.

use gonka_primitives::{
	channel::{
		prove_channel_key, request_seed, Anchor, ChannelMessage, ChannelRequest, ChannelSettle,
		ChannelTerms, FinishReason, Receipt, SignedVoucher, SumTree, TailClaim, Voucher,
	},
	duty::Duty,
	inference::SamplingParams,
	H256,
};
use gonka_runtime::{
	configs::{CommunityPool, DEFAULT_MODEL},
	Balances, Channels, Inference, Poc, Rewards, Runtime, RuntimeCall, RuntimeOrigin, System,
};
use polkadot_sdk::{
	frame_support::{
		assert_ok,
		traits::{fungible::InspectHold, Authorize, Hooks},
	},
	frame_system::{self, RawOrigin},
	sp_core::{sr25519, Pair},
	sp_genesis_builder::DEV_RUNTIME_PRESET,
	sp_keyring::Sr25519Keyring,
	sp_runtime::{traits::Dispatchable, transaction_validity::TransactionSource, BoundedVec},
};

mod common;
use common::chain_from_preset;

/// Runs blocks up to `n`: each records its parent's hash, then the Gonka pallets' hooks.
fn run_to(n: u32) {
	while System::block_number() < n {
		let now = System::block_number();
		frame_system::BlockHash::<Runtime>::insert(now, System::parent_hash());
		System::set_parent_hash(H256::repeat_byte(now as u8));
		System::set_block_number(now + 1);
		Poc::on_initialize(now + 1);
		Inference::on_initialize(now + 1);
		Rewards::on_initialize(now + 1);
		Channels::on_initialize(now + 1);
	}
}

/// The anchor a duty signed now carries: the block before the current one.
fn anchor() -> Anchor {
	let number = System::block_number() - 1;
	Anchor { number, hash: frame_system::BlockHash::<Runtime>::get(number) }
}

/// The worker key of a genesis host (`dev_hosts`: Alice's worker is `//Alice//stash`).
fn worker_of(host: &gonka_runtime::AccountId) -> sr25519::Pair {
	if *host == Sr25519Keyring::Alice.to_account_id() {
		Sr25519Keyring::AliceStash.pair()
	} else {
		Sr25519Keyring::BobStash.pair()
	}
}

/// Charlie's channel key.
fn channel_key() -> sr25519::Pair {
	sr25519::Pair::from_string("//Charlie//channel", None).expect("a key")
}

/// Charlie's terms for a channel of `committee` slots on the default model at `price`:
/// 100 blocks (beyond the verdict window's close, block 100, and the dev chain's 20-block
/// settle window), requests of at most 4,200 tokens.
fn terms_of(committee: u8, price: u128) -> ChannelTerms<u32> {
	ChannelTerms {
		model: DEFAULT_MODEL,
		channel_key: channel_key().public(),
		price_cap: price,
		committee,
		duration: 100,
		max_request_tokens: 4_200,
	}
}

/// Request `nonce` of channel 0 to `member`: 4,000 prompt bytes, at most 16 tokens.
fn request_of(member: &gonka_runtime::AccountId, nonce: u64) -> ChannelRequest {
	ChannelRequest {
		channel: 0,
		nonce,
		attempt: 0,
		executor: member.clone(),
		prompt_hash: H256::repeat_byte(nonce as u8),
		prompt_bytes: 4_000,
		max_tokens: 16,
		sampling: SamplingParams::GREEDY,
	}
}

/// The receipt at leaf `nonce` answering `request_of(member, nonce)`: 3,000 prompt tokens
/// and 6 completion tokens at `price`.
fn receipt_of(member: &gonka_runtime::AccountId, nonce: u64, price: u128) -> Receipt {
	let request = request_of(member, nonce);
	Receipt {
		channel: 0,
		seq: nonce as u32,
		nonce,
		attempt: 0,
		request_hash: request.hash(),
		prompt_hash: request.prompt_hash,
		output_hash: H256::repeat_byte(9),
		prompt_tokens: 3_000,
		completion_tokens: 6,
		finish: FinishReason::Stop,
		seed: request_seed(&Poc::genesis_hash(), 0, nonce, 0),
		cost: 3_006 * price,
	}
}

#[test]
fn a_channel_is_opened_settled_into_the_ledger_and_finalized_on_the_development_chain() {
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		run_to(2);
		let genesis = Poc::genesis_hash();
		let developer = Sr25519Keyring::Charlie.to_account_id();
		let key = channel_key();
		let quote = Channels::quote_channel(DEFAULT_MODEL, 2, 4_200).expect("the model is priced");
		let terms = terms_of(2, quote.price);
		let deposit = quote.min_deposit * 2;
		let pool = Balances::free_balance(CommunityPool::get());
		assert_ok!(Channels::open_channel(
			RuntimeOrigin::signed(developer.clone()),
			terms,
			prove_channel_key(&genesis, &developer, &key),
			deposit,
		));
		// The open fee and the two members' first settlements' fees, prepaid.
		let fee: u128 = <Runtime as pallet_channels::Config>::SettleFee::get();
		assert_eq!(quote.fee, pallet_channels::Params::<Runtime>::get().open_fee + 2 * fee);
		assert_eq!(Balances::free_balance(CommunityPool::get()), pool + quote.fee);
		run_to(3);
		let view = Channels::channel_view(0).expect("the channel is live");
		assert_eq!(view.committee.len(), 2);
		let member = view.committee[0].clone();
		let price = view.info.price;

		// Charlie vouchered two receipts of the member; a third is claimed as tail.
		let request = |nonce| request_of(&member, nonce);
		let receipt = |nonce| receipt_of(&member, nonce, price);
		let tail = vec![TailClaim {
			request_signature: request(2).sign(&genesis, &key),
			request: request(2),
			receipt: receipt(2),
		}];
		let (_, settle) = vouchered(&member, price, tail);
		let signature = settle.sign(&genesis, &member, &worker_of(&member));
		let call = pallet_channels::Call::<Runtime>::settle {
			executor: member.clone(),
			settle,
			signature,
		};
		assert_ok!(call.authorize(TransactionSource::External).expect("a duty call"));
		let pool = Balances::free_balance(CommunityPool::get());
		let free = Balances::free_balance(&member);
		assert_ok!(RuntimeCall::Channels(call).dispatch(RawOrigin::Authorized.into()));

		// The tail receipt costs its developer the validators' share once more (amendment
		// 10), into the pot with the rest of the share.
		let validator_share = pallet_inference::Params::<Runtime>::get().validator_share;
		let tail_fee = validator_share.mul_ceil(3_006 * price);
		let paid = 3 * 3_006 * price + tail_fee;
		println!("settlement fee {fee}, paid {paid}, tail fee {tail_fee}");
		assert!(fee > 0 && fee < paid / 2, "the fee is a small part of the pay");
		let work =
			|who| Balances::balance_on_hold(&pallet_inference::HoldReason::WorkBalance.into(), who);
		// Its first settlement: no fee now; the validators' share waits in the pot.
		let share = validator_share.mul_floor(paid - tail_fee) + tail_fee;
		assert!(share > tail_fee && tail_fee > 0);
		assert_eq!(paid - share, 3 * 3_006 * price - validator_share.mul_floor(3 * 3_006 * price));
		assert_eq!(work(&member), paid - share, "into the member's pending work");
		assert_eq!(Inference::host_view(&member).pending_work, paid - share);
		assert_eq!(Balances::free_balance(CommunityPool::get()), pool);
		assert_eq!(Channels::settled(0, &member).map(|settled| settled.paid), Some(paid));
		let escrow = |who| {
			Balances::balance_on_hold(&pallet_channels::HoldReason::ChannelEscrow.into(), who)
		};
		let pot = Channels::pot();
		assert_eq!(escrow(&pot), share);
		// The pot keeps the existential deposit free (a share may be below it).
		let existential: u128 =
			<Runtime as polkadot_sdk::pallet_balances::Config>::ExistentialDeposit::get();
		assert_eq!(Balances::free_balance(&pot), existential);
		let sample_fee: u128 = <Runtime as pallet_channels::Config>::SampleFee::get();
		println!("sample fee {sample_fee}, existential deposit {existential}");
		// Three samples and at most one second answer.
		assert!(sample_fee > 0 && 4 * sample_fee <= share);
		// A challenge holds a jury's weight as a fee (`ChannelChallengeFee`): more than a
		// settlement's, whose fee is one transaction's.
		let challenge_fee: u128 = <Runtime as pallet_channels::Config>::ChallengeFee::get();
		println!("challenge fee {challenge_fee}");
		assert!(challenge_fee > fee);

		// The other genesis host, all the power but the member's, is drawn for each of the
		// three samples (a new host's target is one: both vouchered receipts and the tail).
		// It answers them in the next verdict period, through the `authorize` path.
		let validator = view
			.committee
			.iter()
			.chain([&Sr25519Keyring::Alice.to_account_id(), &Sr25519Keyring::Bob.to_account_id()])
			.find(|host| **host != member)
			.cloned()
			.expect("another host");
		let settled_at = System::block_number();
		let period = Channels::period_of(settled_at);
		run_to(Channels::period_start(period + 1));
		let record = pallet_channels::Settlements::<Runtime>::get(0).expect("recorded");
		let seed = Channels::seed_of(0, &record).expect("the seed is known");
		assert_eq!(Channels::tree_samples(&record, &seed) + record.tail, 3);
		let verdicts = gonka_primitives::channel::ReceiptVerdicts {
			period,
			anchor: anchor(),
			part: 0,
			entries: BoundedVec::truncate_from(
				(0..3)
					.map(|sample| gonka_primitives::channel::ReceiptVerdict {
						settlement: 0,
						sample,
						pass: true,
					})
					.collect(),
			),
		};
		let signature = verdicts.sign(&genesis, &validator, &worker_of(&validator));
		let call = pallet_channels::Call::<Runtime>::submit_verdicts {
			validator: validator.clone(),
			verdicts,
			signature,
		};
		assert_ok!(call.authorize(TransactionSource::External).expect("a duty call"));
		let validator_work = work(&validator);
		assert_ok!(RuntimeCall::Channels(call).dispatch(RawOrigin::Authorized.into()));
		// Each answer pays the share over the samples and their most second answers: 3 + 1.
		let pay = 3 * (share / 4);
		assert_eq!(work(&validator) - validator_work, pay, "paid per answered sample");
		// The window closes when the next period ends: the passes are steps of the member's
		// test, the rest of the share waits for the settlement's second round.
		run_to(Channels::period_start(period + 2));
		assert!(!Channels::window_open(0));
		assert_eq!(escrow(&pot), share - pay);
		assert!(System::events().iter().any(|record| record.event
			== gonka_runtime::RuntimeEvent::Channels(pallet_channels::Event::SettlementClosed {
				settlement: 0,
				passes: 3,
				fails: 0,
				held: share - pay,
			})));
		assert_eq!(escrow(&developer), deposit - paid, "held until the channel is finalized");
		// The validator holds all the power but the member's, so it is drawn first for every
		// sample and second for none: the round ends with the record, the rest the member's.
		run_to(Channels::period_start(period + 3));
		assert_eq!(escrow(&pot), 0);
		assert!(System::events().iter().any(|record| record.event
			== gonka_runtime::RuntimeEvent::Channels(pallet_channels::Event::SecondRoundEnded {
				settlement: 0,
				answers: 0,
				returned: share - pay,
			})));
		let validated: u32 = (0..=Poc::epoch_now())
			.map(|epoch| pallet_inference::Ledger::<Runtime>::get(epoch, &member).validated)
			.sum();
		assert_eq!(validated, 3, "three steps of the member's invalidation test");

		// Finalized at the end plus the dev chain's settle window: the rest comes back.
		let finalizes = view.info.finalizes;
		let settle_window = gonka_runtime::genesis_config_presets::DEV_SETTLE_WINDOW;
		assert_eq!(pallet_channels::Params::<Runtime>::get().settle_window, settle_window);
		assert_eq!(finalizes, 2 + 100 + settle_window);
		run_to(finalizes);
		assert_eq!(escrow(&developer), 0);
		assert!(Channels::channel_view(0).is_none());
		assert!(System::events().iter().any(|record| record.event
			== gonka_runtime::RuntimeEvent::Channels(pallet_channels::Event::ChannelFinalized {
				channel: 0,
				refund: deposit - paid,
			})));
		// Epochs later: the ledgers of the settlement's epoch and of the round's end (which
		// returned the rest of the share) settled, the pay released.
		let epoch = gonka_runtime::genesis_config_presets::DEV_EPOCH.epoch_length;
		run_to(System::block_number().max(finalizes) + 4 * epoch);
		assert_eq!(work(&member), 0);
		assert!(Balances::free_balance(&member) >= free + paid - pay);
	});
}

/// Step 5d on the development runtime: Charlie challenges a receipt its channel's member
/// settled; the other genesis host, the whole jury, finds it invalid: the receipt's cost
/// comes back from the member's pending work, and the fee held (the runtime's
/// `ChallengeFee` and `JURY_SIZE` times the cost) is returned.
/// `member`'s settlement of channel 0 with Charlie's voucher of its receipts 0 and 1 at
/// `price`, and `tail`; and the vouchered receipts' tree.
fn vouchered(
	member: &gonka_runtime::AccountId,
	price: u128,
	tail: Vec<TailClaim>,
) -> (SumTree, ChannelSettle) {
	let genesis = Poc::genesis_hash();
	let tree =
		SumTree::from_receipts(&[receipt_of(member, 0, price), receipt_of(member, 1, price)])
			.expect("a tree");
	let voucher = Voucher {
		channel: 0,
		executor: member.clone(),
		count: 2,
		root: tree.root().hash,
		amount: tree.root().sum,
		last: (1, 0),
	};
	let settle = ChannelSettle {
		channel: 0,
		voucher: Some(SignedVoucher { signature: voucher.sign(&genesis, &channel_key()), voucher }),
		tail: BoundedVec::truncate_from(tail),
	};
	(tree, settle)
}

/// A channel of one slot Charlie opened on the development chain, whose member settled
/// two vouchered receipts (settlement 0) through the runtime's `authorize` path.
struct Settled {
	genesis: H256,
	developer: gonka_runtime::AccountId,
	member: gonka_runtime::AccountId,
	/// The other genesis host: all the power but the member's.
	other: gonka_runtime::AccountId,
	receipts: Vec<Receipt>,
	tree: SumTree,
}

fn settled() -> Settled {
	run_to(2);
	let genesis = Poc::genesis_hash();
	let developer = Sr25519Keyring::Charlie.to_account_id();
	let key = channel_key();
	let quote = Channels::quote_channel(DEFAULT_MODEL, 1, 4_200).expect("the model is priced");
	let terms = terms_of(1, quote.price);
	assert_ok!(Channels::open_channel(
		RuntimeOrigin::signed(developer.clone()),
		terms,
		prove_channel_key(&genesis, &developer, &key),
		quote.min_deposit * 2,
	));
	run_to(3);
	let member = Channels::channel_view(0).expect("the channel is live").committee[0].clone();
	let other = [Sr25519Keyring::Alice.to_account_id(), Sr25519Keyring::Bob.to_account_id()]
		.into_iter()
		.find(|host| *host != member)
		.expect("the other genesis host");
	let receipts: Vec<Receipt> =
		(0..2u64).map(|nonce| receipt_of(&member, nonce, quote.price)).collect();
	let (tree, settle) = vouchered(&member, quote.price, Vec::new());
	let signature = settle.sign(&genesis, &member, &worker_of(&member));
	let call =
		pallet_channels::Call::<Runtime>::settle { executor: member.clone(), settle, signature };
	assert_ok!(call.authorize(TransactionSource::External).expect("a duty call"));
	assert_ok!(RuntimeCall::Channels(call).dispatch(RawOrigin::Authorized.into()));
	Settled { genesis, developer, member, other, receipts, tree }
}

#[test]
fn a_developer_challenges_a_receipt_and_a_jury_invalidates_it_on_the_development_chain() {
	use gonka_primitives::channel::{ReceiptChallenge, ReceiptEvidence, ReceiptVote, JURY_SIZE};
	use polkadot_sdk::frame_support::traits::Get;
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let Settled { genesis, developer, other: juror, receipts, tree, .. } = settled();
		// The developer challenges receipt 1: the fee and 32 times its cost held.
		let cost = receipts[1].cost;
		let free = Balances::free_balance(&developer);
		let evidence = ReceiptEvidence {
			receipt: receipts[1].clone(),
			proof: BoundedVec::truncate_from(tree.proof(1).expect("a proof")),
		};
		assert_ok!(Channels::challenge_receipt(
			RuntimeOrigin::signed(developer.clone()),
			ReceiptChallenge { settlement: 0, tail: None, evidence },
		));
		let challenge_fee: u128 = <Runtime as pallet_channels::Config>::ChallengeFee::get();
		let held = || {
			Balances::balance_on_hold(&pallet_channels::HoldReason::ChallengeFee.into(), &developer)
		};
		assert_eq!(held(), challenge_fee + u128::from(JURY_SIZE) * cost);
		assert_eq!(Balances::free_balance(&developer), free - held());

		// The juror votes it invalid through the runtime's `authorize` path.
		let at = System::block_number();
		run_to(at + 1);
		let vote =
			ReceiptVote { dispute: 0, anchor: anchor(), settlement: 0, sample: 1, invalid: true };
		let signature = vote.sign(&genesis, &juror, &worker_of(&juror));
		let call = pallet_channels::Call::<Runtime>::vote_receipt {
			juror: juror.clone(),
			vote,
			signature,
		};
		assert_ok!(call.authorize(TransactionSource::External).expect("a duty call"));
		assert_ok!(RuntimeCall::Channels(call).dispatch(RawOrigin::Authorized.into()));
		// A challenge's jury votes for the long window (an executor briefly offline serves
		// it when back).
		let window: u32 = <Runtime as pallet_channels::Config>::UnavailableWindow::get();
		run_to(at + window);
		assert!(pallet_channels::Disputes::<Runtime>::get(0).is_some());
		// Meanwhile the channel ended and refunded its escrow: what the developer has, the
		// fee held included.
		let free = Balances::free_balance(&developer) + held();
		run_to(at + window + 1);
		assert!(pallet_channels::Disputes::<Runtime>::get(0).is_none());
		assert!(System::events().iter().any(|record| record.event
			== gonka_runtime::RuntimeEvent::Channels(pallet_channels::Event::DisputeEnded {
				dispute: 0,
				outcome: pallet_channels::DisputeOutcome::Invalidated,
				refund: cost,
				bounty: 0,
				fine: 0,
			})));
		assert_eq!(held(), 0, "the fee returned");
		assert_eq!(Balances::free_balance(&developer), free + cost, "and the cost refunded");
	});
}

/// A validator that answered none of a period's samples is shown missed in the period after
/// its window, through the runtime's `authorize` path: each sample shown is a missed duty in
/// `pallet-inference`'s ledger, which the downtime test weighs.
#[test]
fn a_validator_that_answered_nothing_is_shown_missed_in_the_ledger_on_the_development_chain() {
	use gonka_primitives::channel::MissedSamples;
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let Settled { genesis, member, other, .. } = settled();
		let period = Channels::period_of(System::block_number());
		// Nobody answers in the next period; the window closes when it ends.
		run_to(Channels::period_start(period + 2));
		assert!(!Channels::window_open(0));
		let record = pallet_channels::Settlements::<Runtime>::get(0).expect("kept a period");
		let seed = Channels::seed_of(0, &record).expect("the seed is known");
		let samples = Channels::tree_samples(&record, &seed) + record.tail;
		assert_eq!(samples, 2, "a new host's target is one");
		let missed = MissedSamples {
			period,
			validator: other.clone(),
			samples: BoundedVec::truncate_from((0..samples).map(|sample| (0, sample)).collect()),
		};
		// The member's worker shows it (any host may).
		let signature = missed.sign(&genesis, &member, &worker_of(&member));
		let call = pallet_channels::Call::<Runtime>::report_missed_samples {
			reporter: member.clone(),
			missed,
			signature,
		};
		assert_ok!(call.authorize(TransactionSource::External).expect("a duty call"));
		assert_ok!(RuntimeCall::Channels(call).dispatch(RawOrigin::Authorized.into()));
		let stats = pallet_inference::Ledger::<Runtime>::get(Poc::epoch_now(), &other);
		assert_eq!((stats.missed_validations, stats.duties_missed()), (samples, samples));
		// The record is pruned when the period ends.
		run_to(Channels::period_start(period + 3));
		assert!(pallet_channels::Settlements::<Runtime>::get(0).is_none());
	});
}
