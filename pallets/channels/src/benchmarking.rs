//! Benchmarks (v2) of the calls and hooks, each at its worst case.

use super::*;
use gonka_primitives::{
	channel::{channel_key_message, ChannelId, ChannelTerms},
	HostId, NonceCount,
};
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::{pallet_prelude::*, traits::fungible::Mutate},
	frame_system::{self, pallet_prelude::BlockNumberFor, RawOrigin},
	sp_core::{crypto::KeyTypeId, sr25519},
	sp_runtime::traits::{One, Saturating},
};

/// The key type of the benchmarks' channel keys in the keystore.
const CHANNEL: KeyTypeId = KeyTypeId(*b"gchn");

fn developer<T: Config>() -> HostId {
	let who: HostId = account("developer", 0, 0);
	<T as Config>::Currency::set_balance(&who, u128::MAX / 4);
	who
}

/// Channel key `i` and its proof that `developer` holds it.
fn channel_key<T: Config>(developer: &HostId, i: u32) -> (sr25519::Public, sr25519::Signature) {
	let key = polkadot_sdk::sp_io::crypto::sr25519_generate(
		CHANNEL,
		Some(alloc::format!("//bench-channel-{i}").into_bytes()),
	);
	let message = channel_key_message(&pallet_poc::Pallet::<T>::genesis_hash(), developer);
	let proof = polkadot_sdk::sp_io::crypto::sr25519_sign(CHANNEL, &key, &message)
		.expect("the key is in the keystore");
	(key, proof)
}

/// Terms of `committee` slots with `key`, the smallest requests, the longest duration, and
/// the deposit they need at least.
fn terms<T: Config>(
	committee: u8,
	key: sr25519::Public,
) -> (ChannelTerms<BlockNumberFor<T>>, u128) {
	let model = T::Pricing::benchmark_model();
	let price = T::Pricing::price(model).unwrap_or(1);
	let tokens = T::Pricing::template_overhead(model).unwrap_or(0).saturating_add(2);
	let terms = ChannelTerms {
		model,
		channel_key: key,
		price_cap: u128::MAX,
		committee,
		duration: T::MaxChannelBlocks::get(),
		max_request_tokens: tokens,
	};
	(terms, price.saturating_mul(u128::from(committee)).saturating_mul(u128::from(tokens)))
}

/// The queues (written by `put`) of the next `SCHEDULE_SEARCH - 1` blocks from `from`
/// full, and the one after full but for one place: a schedule looks at every block it may.
fn crowd<T: Config>(from: BlockNumberFor<T>, put: impl Fn(BlockNumberFor<T>, QueueOf)) {
	let most = T::MaxOpensPerBlock::get();
	let mut block = from;
	for searched in 0..SCHEDULE_SEARCH {
		let fill = if searched + 1 == SCHEDULE_SEARCH { most.saturating_sub(1) } else { most };
		let queue: alloc::vec::Vec<ChannelId> =
			(0..u64::from(fill)).map(|i| 1_000_000 + u64::from(searched) * 1_000 + i).collect();
		put(block, QueueOf::truncate_from(queue));
		block = block.saturating_add(One::one());
	}
}

/// Opens a channel of `committee` slots for the benchmarks' developer.
fn opened<T: Config>(committee: u8) -> (HostId, ChannelId) {
	let who = developer::<T>();
	let (key, proof) = channel_key::<T>(&who, 0);
	let (terms, deposit) = terms::<T>(committee, key);
	let channel = NextChannelId::<T>::get();
	Pallet::<T>::do_open(who.clone(), terms, proof, deposit).expect("the benchmark channel opens");
	(who, channel)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Opening a channel whose draw and finalization each look at `SCHEDULE_SEARCH` blocks
	/// before finding room (each draw block read whole: its channels and its slots).
	#[benchmark]
	fn open_channel() {
		let who = developer::<T>();
		let (key, proof) = channel_key::<T>(&who, 0);
		let (terms, deposit) = terms::<T>(MAX_COMMITTEE_SLOTS as u8, key);
		let now = frame_system::Pallet::<T>::block_number();
		// Each draw block short of a channel, its slots taken but for the last block's.
		crowd::<T>(now.saturating_add(One::one()), |block, mut queue| {
			queue.pop();
			ToDraw::<T>::insert(block, queue);
			DrawSlots::<T>::insert(block, T::MaxDrawSlotsPerBlock::get());
		});
		let last = now.saturating_add(SCHEDULE_SEARCH.into());
		DrawSlots::<T>::insert(last, T::MaxDrawSlotsPerBlock::get() - MAX_COMMITTEE_SLOTS);
		crowd::<T>(
			now.saturating_add(T::MaxChannelBlocks::get()).saturating_add(T::SettleWindow::get()),
			ToFinalize::<T>::insert,
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(who), terms, proof, deposit);

		assert_eq!(NextChannelId::<T>::get(), 1);
	}

	#[benchmark]
	fn top_up() {
		let (who, channel) = opened::<T>(1);
		let before = Channels::<T>::get(channel).map_or(0, |info| info.deposited);

		#[extrinsic_call]
		_(RawOrigin::Signed(who), channel, 1_000);

		assert_eq!(Channels::<T>::get(channel).map(|info| info.deposited), Some(before + 1_000));
	}

	#[benchmark]
	fn close_channel() {
		let (who, channel) = opened::<T>(1);

		#[extrinsic_call]
		_(RawOrigin::Signed(who), channel);

		assert_eq!(
			Channels::<T>::get(channel).map(|info| info.status),
			Some(ChannelStatus::Closed)
		);
	}

	/// Drawing a committee of `k` slots from a roster of `MaxHosts` hosts (its most chunks:
	/// each slot reads the chunk its draw lands in), and storing it.
	#[benchmark]
	fn draw_committee(k: Linear<1, MAX_COMMITTEE_SLOTS>) {
		let model = T::Pricing::benchmark_model();
		let hosts: alloc::vec::Vec<(HostId, NonceCount)> = (0
			..<T as pallet_poc::Config>::MaxHosts::get())
			.map(|i| (account("host", i, 0), 1 as NonceCount))
			.collect();
		pallet_poc::Pallet::<T>::force_roster(model, hosts);
		let (_, channel) = opened::<T>(k as u8);

		#[block]
		{
			Pallet::<T>::draw_committee(channel);
		}

		assert_eq!(
			Committees::<T>::get(channel).map(|committee| committee.len()),
			Some(k as usize)
		);
	}

	/// Finalizing a channel with a committee of 64 slots.
	#[benchmark]
	fn finalize_channel() {
		let (_, channel) = opened::<T>(MAX_COMMITTEE_SLOTS as u8);
		let member: HostId = account("member", 0, 0);
		let committee =
			CommitteeOf::truncate_from(alloc::vec![member; MAX_COMMITTEE_SLOTS as usize]);
		Committees::<T>::insert(channel, committee);

		#[block]
		{
			Pallet::<T>::finalize(channel);
		}

		assert!(Channels::<T>::get(channel).is_none());
	}

	/// A block with nothing to draw or finalize.
	#[benchmark]
	fn on_initialize_idle() {
		let now = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			Pallet::<T>::tick(now.saturating_add(One::one()));
		}
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_bench_ext(), crate::mock::Test);
}
