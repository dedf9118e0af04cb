//! Inference channels at scale on the development runtime: 1,000 channels open at once and
//! 8,000 settlements, every block built as a block builder would (the hooks first, then the
//! transactions while the block has room: openings while the next blocks' draw queues have
//! room, settlements through their `authorize` rule while the block records fewer than
//! `MaxClosesPerBlock`), and every block's work — the hooks' weight and the transactions'
//! declared weights, their `authorize` rules included — within the block's limits. The
//! channels end, their verdict windows close and they are finalized, their escrow
//! refunded; the pallets' invariants hold at every stage.

use gonka_primitives::{
	channel::{
		prove_channel_key, request_seed, ChannelMessage, ChannelSettle, ChannelTerms, FinishReason,
		Receipt, SignedVoucher, SumTree, Voucher,
	},
	duty::Duty,
	H256,
};
use gonka_runtime::{
	configs::{RuntimeBlockWeights, DEFAULT_MODEL},
	AccountId, Channels, Inference, Poc, Rewards, Runtime, RuntimeCall, RuntimeOrigin, System,
};
use polkadot_sdk::{
	frame_support::{
		dispatch::{DispatchClass, GetDispatchInfo},
		traits::{Authorize, Get, Hooks},
		weights::Weight,
		BoundedVec,
	},
	frame_system::{self, RawOrigin},
	sp_core::{sr25519, Pair},
	sp_genesis_builder::DEV_RUNTIME_PRESET,
	sp_keyring::Sr25519Keyring,
	sp_runtime::{
		traits::Dispatchable,
		transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
	},
};

mod common;
use common::chain_from_preset;

const CHANNELS: u64 = 1_000;
const SETTLEMENTS: u32 = 8_000;
/// Receipts each settlement adds (enough that a later settlement pays more than its fee
/// and its validators' share pays its samples at a new host's target of one).
const RECEIPTS_EACH: u32 = 4;
/// A receipt's tokens.
const TOKENS: u64 = 4_000;
const MAX_REQUEST_TOKENS: u32 = 4_200;
/// Long enough that the first channel is still open when the last one's committee is
/// drawn.
const DURATION: u32 = 500;

/// The weights of one block so far: its hooks' and its transactions'.
#[derive(Default)]
struct BlockLoad {
	total: Weight,
	normal: Weight,
}

impl BlockLoad {
	/// Whether `weight` more of `class` fits the block's limits.
	fn fits(&self, weight: Weight, class: DispatchClass) -> bool {
		let limits = RuntimeBlockWeights::get();
		let total = self.total.saturating_add(weight);
		if !total.all_lte(limits.max_block) {
			return false;
		}
		class != DispatchClass::Normal
			|| self
				.normal
				.saturating_add(weight)
				.all_lte(limits.get(DispatchClass::Normal).max_total.expect("a normal limit"))
	}

	fn add(&mut self, weight: Weight, class: DispatchClass) {
		self.total = self.total.saturating_add(weight);
		if class == DispatchClass::Normal {
			self.normal = self.normal.saturating_add(weight);
		}
	}
}

/// Starts block `now + 1`: its parent's hash recorded, the hooks run; returns their load.
fn next_block() -> BlockLoad {
	let now = System::block_number();
	frame_system::BlockHash::<Runtime>::insert(now, System::parent_hash());
	let mut parent = [0u8; 32];
	parent[..4].copy_from_slice(&now.to_le_bytes());
	System::set_parent_hash(H256::from(parent));
	System::set_block_number(now + 1);
	let hooks = Poc::on_initialize(now + 1)
		.saturating_add(Inference::on_initialize(now + 1))
		.saturating_add(Rewards::on_initialize(now + 1))
		.saturating_add(Channels::on_initialize(now + 1));
	let limits = RuntimeBlockWeights::get();
	let mut load = BlockLoad::default();
	load.add(limits.base_block.saturating_add(hooks), DispatchClass::Mandatory);
	assert!(
		load.total.all_lte(limits.max_block),
		"block {}: the hooks weigh {:?}, above the block's {:?}",
		now + 1,
		load.total,
		limits.max_block
	);
	load
}

/// A transaction's weight as a block charges it: its class's base, its call's weight and
/// its `authorize` rule's.
fn weight_of(call: &RuntimeCall) -> (Weight, DispatchClass) {
	let info = call.get_dispatch_info();
	let base = RuntimeBlockWeights::get().get(info.class).base_extrinsic;
	(
		base.saturating_add(info.total_weight()).saturating_add(call.weight_of_authorize()),
		info.class,
	)
}

fn channel_key(channel: u64) -> sr25519::Pair {
	sr25519::Pair::from_string(&format!("//scale-channel-{channel}"), None).expect("a key")
}

/// The worker key of a genesis host (`dev_hosts`: Alice's worker is `//Alice//stash`).
fn worker_of(host: &AccountId) -> sr25519::Pair {
	if *host == Sr25519Keyring::Alice.to_account_id() {
		Sr25519Keyring::AliceStash.pair()
	} else {
		Sr25519Keyring::BobStash.pair()
	}
}

/// `member`'s settlement of `channel` with a voucher of its first `count` receipts.
fn settlement(channel: u64, member: &AccountId, count: u32, price: u128) -> RuntimeCall {
	let genesis = Poc::genesis_hash();
	let receipts: Vec<Receipt> = (0..count)
		.map(|seq| Receipt {
			channel,
			seq,
			nonce: u64::from(seq),
			attempt: 0,
			request_hash: H256::repeat_byte(1),
			prompt_hash: H256::repeat_byte(2),
			output_hash: H256::repeat_byte(3),
			prompt_tokens: TOKENS as u32 - 10,
			completion_tokens: 10,
			finish: FinishReason::Stop,
			seed: request_seed(&genesis, channel, u64::from(seq), 0),
			cost: u128::from(TOKENS) * price,
		})
		.collect();
	let root = SumTree::from_receipts(&receipts).expect("a tree").root();
	let voucher = Voucher {
		channel,
		executor: member.clone(),
		count,
		root: root.hash,
		amount: root.sum,
		last: (u64::from(count) - 1, 0),
	};
	let settle = ChannelSettle {
		channel,
		voucher: Some(SignedVoucher {
			signature: voucher.sign(&genesis, &channel_key(channel)),
			voucher,
		}),
		tail: BoundedVec::new(),
	};
	let signature = settle.sign(&genesis, member, &worker_of(member));
	RuntimeCall::Channels(pallet_channels::Call::settle {
		executor: member.clone(),
		settle,
		signature,
	})
}

fn check_invariants() {
	Channels::do_try_state().expect("the channels' invariants hold");
	Inference::do_try_state().expect("inference's invariants hold");
}

#[test]
fn a_thousand_channels_open_at_once_and_eight_thousand_settlements_fit_the_blocks() {
	chain_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		next_block();
		let genesis = Poc::genesis_hash();
		let developers: Vec<AccountId> = [
			Sr25519Keyring::Charlie,
			Sr25519Keyring::Dave,
			Sr25519Keyring::Eve,
			Sr25519Keyring::Ferdie,
		]
		.iter()
		.map(|key| key.to_account_id())
		.collect();
		let quote = Channels::quote_channel(DEFAULT_MODEL, 2, MAX_REQUEST_TOKENS)
			.expect("the model is priced");
		// Room for each member's settlements: 2 slots, each paid up to half the deposit.
		let receipts_each_member = SETTLEMENTS.div_ceil(2 * CHANNELS as u32) * RECEIPTS_EACH * 2;
		let deposit = (u128::from(receipts_each_member) * u128::from(TOKENS) * quote.price * 2)
			.max(quote.min_deposit);
		println!(
			"price {}, deposit {deposit}, fee {}, {} blocks open at most {} channels",
			quote.price,
			quote.fee,
			DURATION,
			<<Runtime as pallet_channels::Config>::MaxOpensPerBlock as Get<u32>>::get()
		);

		// Openings, as many a block as its room and the draw queues allow.
		let mut next: u64 = 0;
		let mut most_live = 0usize;
		while next < CHANNELS {
			let mut load = next_block();
			while next < CHANNELS {
				let developer = &developers[(next % developers.len() as u64) as usize];
				let key = channel_key(next);
				let terms = ChannelTerms {
					model: DEFAULT_MODEL,
					channel_key: key.public(),
					price_cap: quote.price,
					committee: 2,
					duration: DURATION,
					max_request_tokens: MAX_REQUEST_TOKENS,
				};
				let call = RuntimeCall::Channels(pallet_channels::Call::open_channel {
					terms,
					key_proof: prove_channel_key(&genesis, developer, &key),
					deposit,
				});
				let (weight, class) = weight_of(&call);
				// A block full by weight takes no more (its first ones fill 16 blocks of draws).
				if !load.fits(weight, class) {
					break;
				}
				match call.dispatch(RuntimeOrigin::signed(developer.clone())) {
					Ok(_) => {
						load.add(weight, class);
						next += 1;
					}
					// The next 16 blocks' draws are full: the next block takes it.
					Err(error)
						if error.error
							== pallet_channels::Error::<Runtime>::TooManyChannels.into() =>
					{
						break
					}
					Err(error) => panic!("channel {next} opens: {error:?}"),
				}
			}
			most_live = most_live.max(pallet_channels::Channels::<Runtime>::iter().count());
		}
		println!("at most {most_live} channels live while opening");
		// Every committee drawn.
		for _ in 0..20 {
			next_block();
		}
		let live = pallet_channels::Channels::<Runtime>::iter().count();
		let drawn = pallet_channels::Committees::<Runtime>::iter().count();
		println!(
			"{live} channels live, {drawn} committees drawn at block {}",
			System::block_number()
		);
		assert_eq!(live, CHANNELS as usize, "every channel is open at once");
		assert_eq!(drawn, CHANNELS as usize, "every committee is drawn");
		check_invariants();

		// Settlements: each member of each channel settles in turns, each adding
		// `RECEIPTS_EACH` receipts, until 8,000 are recorded.
		let mut queue: std::collections::VecDeque<(u64, AccountId, u32)> = Default::default();
		for channel in 0..CHANNELS {
			let committee = pallet_channels::Committees::<Runtime>::get(channel).expect("drawn");
			let mut members: Vec<AccountId> = committee.into_inner();
			members.dedup();
			for member in members {
				queue.push_back((channel, member, RECEIPTS_EACH));
			}
		}
		let price = quote.price;
		let (mut settled, mut blocks, mut most_open) = (0u32, 0u32, 0usize);
		while settled < SETTLEMENTS {
			let mut load = next_block();
			blocks += 1;
			let mut this_block = 0u32;
			while settled < SETTLEMENTS {
				let Some((channel, member, count)) = queue.pop_front() else { break };
				let call = settlement(channel, &member, count, price);
				let (weight, class) = weight_of(&call);
				// `MaxClosesPerBlock`, not the block's weight, bounds the settlements a
				// block takes: 192 of them and the hooks fit.
				assert!(
					load.fits(weight, class),
					"block {}: settlement {this_block} does not fit beside {:?}",
					System::block_number(),
					load.total
				);
				let RuntimeCall::Channels(inner) = &call else { unreachable!() };
				match inner.authorize(TransactionSource::External).expect("a duty call") {
					Ok(_) => {}
					// The block records as many settlements as its windows' closes keep
					// up with: the pool keeps it for the next block.
					Err(TransactionValidityError::Invalid(
						InvalidTransaction::ExhaustsResources,
					)) => {
						queue.push_front((channel, member, count));
						break;
					}
					Err(error) => panic!("settlement of channel {channel} is valid: {error:?}"),
				}
				call.dispatch(RawOrigin::Authorized.into()).expect("the settlement dispatches");
				load.add(weight, class);
				settled += 1;
				this_block += 1;
				queue.push_back((channel, member, count + RECEIPTS_EACH));
			}
			assert!(this_block > 0, "block {} records a settlement", System::block_number());
			most_open = most_open.max(pallet_channels::Settlements::<Runtime>::iter().count());
		}
		let closes: u32 = <Runtime as pallet_channels::Config>::MaxClosesPerBlock::get();
		println!(
			"{settled} settlements in {blocks} blocks (at most {closes} a block), at most \
			 {most_open} records open at once"
		);
		// Every block but the last took as many as `MaxClosesPerBlock`: full blocks.
		assert_eq!(blocks, SETTLEMENTS.div_ceil(closes), "each block took {closes}");
		check_invariants();

		// The windows close as fast as the settlements came: `MaxClosesPerBlock` a block,
		// each block's hooks within its limits (`next_block` checks), and the records are
		// pruned a period after, so the records kept never exceed three periods'
		// settlements.
		let period: u32 = <Runtime as pallet_channels::Config>::VerdictPeriod::get();
		let bound = (3 * period * closes) as usize;
		while pallet_channels::NextToClose::<Runtime>::get() < u64::from(SETTLEMENTS) {
			let before = pallet_channels::NextToClose::<Runtime>::get();
			next_block();
			let after = pallet_channels::NextToClose::<Runtime>::get();
			assert!(after - before <= u64::from(closes), "at most {closes} closes a block");
			let open = pallet_channels::Settlements::<Runtime>::iter().count();
			most_open = most_open.max(open);
		}
		assert!(most_open <= bound, "{most_open} records open, above {bound}");
		check_invariants();

		// The channels end, their windows close, they are finalized: all escrow refunded,
		// the pot empty, no record left.
		let last = pallet_channels::Channels::<Runtime>::iter()
			.map(|(_, info)| info.finalizes)
			.max()
			.expect("live channels");
		while System::block_number() <= last + 200 {
			next_block();
		}
		assert_eq!(pallet_channels::Channels::<Runtime>::iter().count(), 0);
		assert_eq!(pallet_channels::Settlements::<Runtime>::iter().count(), 0);
		for developer in &developers {
			use polkadot_sdk::frame_support::traits::fungible::InspectHold;
			assert_eq!(
				gonka_runtime::Balances::balance_on_hold(
					&pallet_channels::HoldReason::ChannelEscrow.into(),
					developer
				),
				0,
				"every escrow refunded"
			);
		}
		check_invariants();
	});
}
