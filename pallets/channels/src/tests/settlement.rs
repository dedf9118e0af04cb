//! Settlements: vouchers and tail claims bound to their channel and member, cumulative
//! payments within the allowance, into the member's pending work; the rest refunded at
//! finalize.

use super::*;
use crate::{Error, Event, Settled};
use gonka_primitives::{
	channel::{
		request_seed, ChannelMessage, ChannelRequest, ChannelSettle, FinishReason, Receipt,
		SignedVoucher, SumTree, TailClaim, Voucher,
	},
	duty::Duty,
	inference::SamplingParams,
	H256,
};
use polkadot_sdk::{
	frame_support::{assert_ok, BoundedVec},
	sp_runtime::{transaction_validity::InvalidTransaction, DispatchError, Perbill},
};

/// Model 1's price and template overhead in the mock.
const PRICE: u128 = 10;
const OVERHEAD: u32 = 1;

/// A channel of `slots` slots opened by developer 20 with `deposit`, its committee drawn
/// (block 2); returns it and its first member's index among hosts 1–3.
pub(super) fn drawn(slots: u8, deposit: u128) -> (u64, u8) {
	let channel = open(20, terms(slots), deposit);
	run_to_block(2);
	let committee = crate::Committees::<Test>::get(channel).unwrap();
	let member = (1..=3).find(|i| committee.contains(&account(*i))).unwrap();
	(channel, member)
}

/// Request `nonce` of `channel` to host `to`: 4 prompt bytes, at most 5 tokens.
pub(super) fn request(channel: u64, to: u8, nonce: u64) -> ChannelRequest {
	ChannelRequest {
		channel,
		nonce,
		attempt: 0,
		executor: account(to),
		prompt_hash: H256::repeat_byte(nonce as u8),
		prompt_bytes: 4,
		max_tokens: 5,
		sampling: SamplingParams { temperature_milli: 0, top_p: Perbill::one() },
	}
}

/// The receipt at leaf `seq` answering `request` with 3 completion tokens and 5 prompt
/// tokens: (5 + 3) × 10 = 80.
pub(super) fn receipt(request: &ChannelRequest, seq: u32) -> Receipt {
	Receipt {
		channel: request.channel,
		seq,
		nonce: request.nonce,
		attempt: request.attempt,
		request_hash: request.hash(),
		prompt_hash: request.prompt_hash,
		output_hash: H256::repeat_byte(7),
		prompt_tokens: 5,
		completion_tokens: 3,
		finish: FinishReason::Stop,
		seed: request_seed(&Poc::genesis_hash(), request.channel, request.nonce, request.attempt),
		cost: 80,
	}
}
pub(super) const RECEIPT_COST: u128 = 80;

/// The developer's voucher for receipts `0..count` of `to` (each as `receipt` makes it),
/// signed with `channel`'s key.
pub(super) fn voucher(channel: u64, to: u8, count: u32) -> SignedVoucher {
	let receipts: Vec<_> =
		(0..count).map(|seq| receipt(&request(channel, to, u64::from(seq)), seq)).collect();
	let (root, amount) = SumTree::from_receipts(&receipts)
		.map_or((H256::zero(), 0), |tree| (tree.root().hash, tree.root().sum));
	let last = receipts.last().map_or((0, 0), |receipt| (receipt.nonce, receipt.attempt));
	let voucher = Voucher { channel, executor: account(to), count, root, amount, last };
	let signature = voucher.sign(&Poc::genesis_hash(), &key(channel));
	SignedVoucher { voucher, signature }
}

/// Tail claims of `to`'s receipts `from..to_seq` (nonces as their leaves).
pub(super) fn tail(channel: u64, to: u8, from: u32, until: u32) -> Vec<TailClaim> {
	(from..until)
		.map(|seq| {
			let request = request(channel, to, u64::from(seq));
			TailClaim {
				request_signature: request.sign(&Poc::genesis_hash(), &key(channel)),
				receipt: receipt(&request, seq),
				request,
			}
		})
		.collect()
}

pub(super) fn settlement(
	channel: u64,
	voucher: Option<SignedVoucher>,
	tail: Vec<TailClaim>,
) -> ChannelSettle {
	ChannelSettle { channel, voucher, tail: BoundedVec::truncate_from(tail) }
}

/// Host `i`'s settlement, signed by its worker key, through the pool and dispatch.
pub(super) fn settle(i: u8, settle: ChannelSettle) -> Result<(), Refused> {
	let signature = settle.sign(&Poc::genesis_hash(), &account(i), &worker(i));
	run_duty(crate::Call::settle { executor: account(i), settle, signature })
}

/// The pool's refusal of a settlement whose check fails with `error`.
pub(super) fn refused(error: Error<Test>) -> Refused {
	Refused::Pool(
		InvalidTransaction::Custom(pallet_poc::validity::error_code(DispatchError::from(error)))
			.into(),
	)
}

pub(super) fn paid(channel: u64, i: u8) -> u128 {
	Channels::settled(channel, &account(i)).map_or(0, |settled| settled.paid)
}

#[test]
fn a_member_is_paid_its_voucher_into_its_pending_work_and_the_rest_refunded_at_finalize() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, member) = drawn(2, 2_000);
		let before = Balances::free_balance(account(member));
		let pool = Balances::free_balance(Pool::get());
		assert_ok!(settle(member, settlement(channel, Some(voucher(channel, member, 3)), vec![])));
		assert_eq!(paid(channel, member), 3 * RECEIPT_COST);
		// Its first settlement: its fee was prepaid when the channel opened; the
		// validators' share waits in the pot.
		let pay = 3 * RECEIPT_COST - VALIDATOR_SHARE.mul_floor(3 * RECEIPT_COST);
		assert_eq!(credited(&account(member)), pay, "into its pending work");
		assert_eq!(Balances::free_balance(account(member)), before, "held, not free");
		assert_eq!(Balances::free_balance(Pool::get()), pool);
		assert_eq!(held(20), 2_000 - 3 * RECEIPT_COST);
		assert!(channel_events().contains(&Event::ChannelSettled {
			settlement: 0,
			channel,
			executor: account(member),
			receipts: 3,
			tail: 0,
			root: Some(voucher(channel, member, 3).voucher.root),
			amount: pay,
			fee: 0,
			tail_fee: 0,
			paid: 3 * RECEIPT_COST,
		}));
		let finalizes = crate::Channels::<Test>::get(channel).unwrap().finalizes;
		run_to_block(finalizes);
		assert_eq!(held(20), 0);
		assert!(channel_events()
			.contains(&Event::ChannelFinalized { channel, refund: 2_000 - 3 * RECEIPT_COST }));
		assert!(!Settled::<Test>::contains_key(channel), "pruned with it");
	});
}

#[test]
fn settlements_are_cumulative_each_paying_what_it_adds() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, m) = drawn(1, 2_000);
		// Two vouchered receipts and a tail of two, which costs its tail fee too.
		assert_ok!(settle(
			m,
			settlement(channel, Some(voucher(channel, m, 2)), tail(channel, m, 2, 4))
		));
		let tail_fee = VALIDATOR_SHARE.mul_ceil(2 * RECEIPT_COST);
		assert_eq!(paid(channel, m), 4 * RECEIPT_COST + tail_fee);
		// The developer vouchered the tail since, and one more: only the one more is paid.
		assert_ok!(settle(m, settlement(channel, Some(voucher(channel, m, 5)), vec![])));
		assert_eq!(paid(channel, m), 5 * RECEIPT_COST + tail_fee);
		// The second paid its fee, to the pool, from the escrow; the validators' share of
		// each (and the tail fee) went to the pot.
		let net = |paid: u128| paid - VALIDATOR_SHARE.mul_floor(paid);
		assert_eq!(credited(&account(m)), net(4 * RECEIPT_COST) + net(RECEIPT_COST - SETTLE_FEE));
		// Nothing beyond what was settled, or an older voucher: refused.
		assert_eq!(
			settle(m, settlement(channel, Some(voucher(channel, m, 5)), vec![])),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		assert_eq!(
			settle(m, settlement(channel, Some(voucher(channel, m, 4)), tail(channel, m, 4, 7))),
			Err(refused(Error::VoucherBehind))
		);
		assert_eq!(
			settle(m, settlement(channel, None, tail(channel, m, 0, 6))),
			Err(refused(Error::VoucherBehind))
		);
		assert_eq!(Channels::settled(channel, &account(m)).unwrap().settlements, 2);
	});
}

/// Amendment 10 (the tail fee): a developer who stops signing vouchers pays each tail
/// receipt at its cost and the validators' share once more (every tail receipt is a
/// sample), charged the first time the receipt is claimed, into the pot with the
/// validators' share; the executor keeps its usual share.
#[test]
fn a_tail_receipt_costs_its_developer_the_validators_share_once_more() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, m) = drawn(1, 2_000);
		let share = |paid: u128, fee: u128| VALIDATOR_SHARE.mul_floor(paid - fee) + fee;
		// Two vouchered receipts and a tail of two.
		assert_ok!(settle(
			m,
			settlement(channel, Some(voucher(channel, m, 2)), tail(channel, m, 2, 4))
		));
		let fee = VALIDATOR_SHARE.mul_ceil(2 * RECEIPT_COST);
		let paid_first = 4 * RECEIPT_COST + fee;
		assert_eq!(paid(channel, m), paid_first);
		assert_eq!(held(20), 2_000 - paid_first, "from the escrow");
		let pay = paid_first - share(paid_first, fee);
		assert_eq!(pay, 4 * RECEIPT_COST - VALIDATOR_SHARE.mul_floor(4 * RECEIPT_COST));
		assert_eq!(credited(&account(m)), pay, "the executor keeps its usual share");
		assert_eq!(Channels::tail_charge(channel, &account(m)).fees, fee);
		assert!(channel_events().iter().any(|event| matches!(
			event,
			Event::ChannelSettled { tail: 2, tail_fee, amount, .. }
				if *tail_fee == fee && *amount == pay
		)));
		assert_eq!(
			crate::Settlements::<Test>::get(0).unwrap().share,
			share(paid_first, fee),
			"the tail fee waits in the pot with the validators' share"
		);
		// The same voucher, the two tail receipts claimed again and two more: the fee of
		// the two more only.
		run_to_block(3);
		assert_ok!(settle(
			m,
			settlement(channel, Some(voucher(channel, m, 2)), tail(channel, m, 2, 6))
		));
		assert_eq!(paid(channel, m), 6 * RECEIPT_COST + 2 * fee);
		assert_eq!(Channels::tail_charge(channel, &account(m)).fees, 2 * fee);
		// Vouchered since: the fees stay paid, the vouchered receipts are not paid twice.
		run_to_block(4);
		assert_ok!(settle(m, settlement(channel, Some(voucher(channel, m, 7)), vec![])));
		assert_eq!(paid(channel, m), 7 * RECEIPT_COST + 2 * fee);
		// Finalized: the escrow less what was paid goes back to the developer.
		let finalizes = crate::Channels::<Test>::get(channel).unwrap().finalizes;
		run_to_block(finalizes);
		assert!(channel_events().contains(&Event::ChannelFinalized {
			channel,
			refund: 2_000 - 7 * RECEIPT_COST - 2 * fee
		}));
		assert!(!crate::TailFees::<Test>::contains_key(channel), "removed with the channel");
	});
}

/// Tail claim of `to`'s request `nonce` at leaf `seq`, answered with `completion` tokens:
/// it costs `(5 + completion) × 10`.
fn claim(channel: u64, to: u8, nonce: u64, seq: u32, completion: u32) -> TailClaim {
	let request = request(channel, to, nonce);
	let mut receipt = receipt(&request, seq);
	receipt.completion_tokens = completion;
	receipt.cost = u128::from(5 + completion) * PRICE;
	TailClaim {
		request_signature: request.sign(&Poc::genesis_hash(), &key(channel)),
		receipt,
		request,
	}
}

/// Attack (`docs/security.md`, the review of the tail fee): an executor writes its
/// receipts' leaf numbers, so it can claim a receipt as tail, then claim it again at a
/// higher number with another receipt slipped in before it, to charge its fee twice (or
/// slip costly receipts below a cheap one's number to charge none). Rule: the fee is
/// charged on what a settlement's total adds beyond the member's earlier tails and its
/// voucher: money, not numbers.
#[test]
fn a_tail_receipt_renumbered_pays_its_fee_once() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, m) = drawn(1, 2_000);
		// X (nonce 100, cost 90) at leaf 0.
		assert_ok!(settle(m, settlement(channel, None, vec![claim(channel, m, 100, 0, 4)])));
		assert_eq!(Channels::tail_charge(channel, &account(m)).fees, 9);
		// A (nonce 1, cost 80) slipped in before it: X at leaf 1, as if new.
		let again = vec![claim(channel, m, 1, 0, 3), claim(channel, m, 100, 1, 4)];
		assert_ok!(settle(m, settlement(channel, None, again)));
		assert_eq!(
			Channels::tail_charge(channel, &account(m)).fees,
			VALIDATOR_SHARE.mul_ceil(170),
			"A's fee, X's once"
		);
		assert_eq!(paid(channel, m), 170 + 17);
	});
}

/// Amendment 10: the tail fee is taken first of what a settlement takes at the member's
/// allowance, and never more: the member may be paid nothing, the escrow is never
/// overdrawn (the other members' allowances are held beside it).
#[test]
fn at_the_allowance_the_tail_fee_is_what_is_left() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, m) = drawn(1, 970);
		assert_ok!(settle(m, settlement(channel, Some(voucher(channel, m, 12)), vec![])));
		assert_eq!(paid(channel, m), 960);
		let before = credited(&account(m));
		// A tail of two (160, its fee 16): 10 left of the allowance, 3 of it the fee.
		assert_ok!(settle(
			m,
			settlement(channel, Some(voucher(channel, m, 12)), tail(channel, m, 12, 14))
		));
		assert_eq!(paid(channel, m), 970);
		assert_eq!(held(20), 0, "the escrow is spent, never overdrawn");
		assert_eq!(Channels::tail_charge(channel, &account(m)).fees, 10 - SETTLE_FEE);
		assert_eq!(credited(&account(m)), before, "nothing left for the member");
	});
}

/// Amendment 10: the tail fee counts in the member's allowance (the allowances sum to the
/// deposit, so a fee beyond them would overdraw the escrow): a member whose settlement
/// reaches its allowance is paid the allowance less the fee.
#[test]
fn the_tail_fee_counts_in_the_members_allowance() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, m) = drawn(1, 1_000);
		assert_eq!(Channels::allowance(channel, &account(m)), 1_000);
		// 12 vouchered (960) and a tail of 2 (160) with its fee: beyond the allowance.
		assert_ok!(settle(
			m,
			settlement(channel, Some(voucher(channel, m, 12)), tail(channel, m, 12, 14))
		));
		let fee = VALIDATOR_SHARE.mul_ceil(2 * RECEIPT_COST);
		assert_eq!(paid(channel, m), 1_000, "its allowance, no more");
		assert_eq!(held(20), 0, "the escrow is spent, never overdrawn");
		let pay = 1_000 - (VALIDATOR_SHARE.mul_floor(1_000 - fee) + fee);
		assert_eq!(credited(&account(m)), pay);
		assert!(pay < 1_000 - VALIDATOR_SHARE.mul_floor(1_000), "paid less at its allowance");
		assert_eq!(Channels::tail_charge(channel, &account(m)).fees, fee);
	});
}

/// Overcharging: whatever the voucher and the tail say, a member is paid at most its
/// allowance, its share of the slots of the deposit (here less than the deposit: the
/// committee has another member).
#[test]
fn a_member_is_paid_at_most_its_allowance() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let channel = open(20, terms(4), 400);
		run_to_block(2);
		let committee = crate::Committees::<Test>::get(channel).unwrap();
		let slots = |i: u8| committee.iter().filter(|host| **host == account(i)).count() as u128;
		let m = (1..=3).find(|i| slots(*i) > 0 && slots(*i) < 4).expect("two members or more");
		let share = slots(m) * 100;
		assert_eq!(Channels::allowance(channel, &account(m)), share);
		// Vouchers far beyond the share: paid the share, and nothing more after.
		assert_ok!(settle(m, settlement(channel, Some(voucher(channel, m, 6)), vec![])));
		assert_eq!(paid(channel, m), share);
		assert_eq!(
			settle(m, settlement(channel, Some(voucher(channel, m, 7)), vec![])),
			Err(refused(Error::PaysTooLittle))
		);
		// A top-up raises the allowance; the next settlement is paid up to it.
		assert_ok!(Channels::top_up(RuntimeOrigin::signed(account(20)), channel, 400));
		assert_ok!(settle(m, settlement(channel, Some(voucher(channel, m, 7)), vec![])));
		assert_eq!(paid(channel, m), (7 * RECEIPT_COST).min(slots(m) * 200));
	});
}

/// Free duty transactions must not be spam: a member's first settlement is prepaid by the
/// channel's fee and must pay something, a later one pays its fee from its pay and must pay
/// more; the pool takes one per member and settlement.
#[test]
fn a_settlement_pays_for_itself() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let (channel, m) = drawn(1, 1_000);
		// A voucher of nothing: refused, even as the first (prepaid) settlement.
		let signed = |count: u32, amount: u128| {
			let mut signed = voucher(channel, m, count);
			signed.voucher.amount = amount;
			signed.signature = signed.voucher.sign(&Poc::genesis_hash(), &key(channel));
			signed
		};
		assert_eq!(
			settle(m, settlement(channel, Some(signed(1, 0)), vec![])),
			Err(refused(Error::PaysTooLittle))
		);
		// The first pays anything (its fee was prepaid), a later one more than its fee.
		assert_ok!(settle(m, settlement(channel, Some(signed(1, 1)), vec![])));
		assert_eq!(
			settle(m, settlement(channel, Some(signed(2, 1 + SETTLE_FEE)), vec![])),
			Err(refused(Error::PaysTooLittle))
		);
		assert_ok!(settle(m, settlement(channel, Some(signed(2, 2 + SETTLE_FEE)), vec![])));
		assert_eq!(paid(channel, m), 2 + SETTLE_FEE);
		assert_eq!(credited(&account(m)), 2);
		// The block took its two settlements (the mock's `MaxClosesPerBlock`): the next.
		run_to_block(3);
		// What the pool sees of a settlement.
		let validity = |settle: ChannelSettle| {
			use polkadot_sdk::{
				frame_support::traits::Authorize,
				sp_runtime::transaction_validity::TransactionSource,
			};
			let signature = settle.sign(&Poc::genesis_hash(), &account(m), &worker(m));
			crate::Call::<Test>::settle { executor: account(m), settle, signature }
				.authorize(TransactionSource::External)
				.unwrap()
				.unwrap()
				.0
		};
		let tag = |settle: ChannelSettle| validity(settle).provides;
		// Below the other duties: PoC commitments and request results come first.
		use polkadot_sdk::frame_support::traits::Get as _;
		let duty: u64 = <Test as pallet_poc::Config>::DutyPriority::get();
		assert_eq!(
			validity(settlement(channel, Some(voucher(channel, m, 3)), vec![])).priority,
			duty / 2
		);
		// Two settlements of the same step compete for one `provides` tag.
		let one = tag(settlement(channel, Some(voucher(channel, m, 3)), vec![]));
		let two = tag(settlement(channel, Some(voucher(channel, m, 4)), vec![]));
		assert_eq!(one, two);
		assert_ok!(settle(m, settlement(channel, Some(voucher(channel, m, 4)), vec![])));
		assert_ne!(tag(settlement(channel, Some(voucher(channel, m, 5)), vec![])), one);
	});
}

/// Before its committee is drawn nobody settles a channel; after it is finalized, nothing
/// is left to settle.
#[test]
fn a_channel_is_settled_between_its_draw_and_its_finalization() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		let channel = open(20, terms(1), 1_000);
		assert_eq!(
			settle(1, settlement(channel, Some(voucher(channel, 1, 1)), vec![])),
			Err(refused(Error::NotInCommittee))
		);
		run_to_block(2);
		assert_ok!(settle(1, settlement(channel, Some(voucher(channel, 1, 1)), vec![])));
		let finalizes = crate::Channels::<Test>::get(channel).unwrap().finalizes;
		run_to_block(finalizes);
		assert_eq!(
			settle(1, settlement(channel, Some(voucher(channel, 1, 2)), vec![])),
			Err(Refused::Pool(InvalidTransaction::Stale.into()))
		);
		assert!(channel_events()
			.contains(&Event::ChannelFinalized { channel, refund: 1_000 - RECEIPT_COST }));
	});
}

#[test]
fn a_voucher_for_another_member_or_channel_or_not_the_channel_keys_is_refused() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, m) = drawn(3, 3_000);
		let other = open(21, terms(3), 3_000);
		run_to_block(3);
		let mut wrong = voucher(channel, m, 2);
		wrong.voucher.executor = account(9);
		wrong.signature = wrong.voucher.sign(&Poc::genesis_hash(), &key(channel));
		assert_eq!(
			settle(m, settlement(channel, Some(wrong), vec![])),
			Err(refused(Error::VoucherNotForExecutor))
		);
		// Another channel's voucher, even signed by that channel's key.
		assert_eq!(
			settle(m, settlement(channel, Some(voucher(other, m, 2)), vec![])),
			Err(refused(Error::VoucherNotForExecutor))
		);
		// Signed by another key (the member's own worker key, say).
		let mut forged = voucher(channel, m, 2);
		forged.voucher.amount = 1_000;
		forged.signature = forged.voucher.sign(&Poc::genesis_hash(), &key(other));
		assert_eq!(
			settle(m, settlement(channel, Some(forged), vec![])),
			Err(refused(Error::BadVoucherSignature))
		);
		assert_eq!(paid(channel, m), 0);
	});
}

/// Amendment 3: a tail claim is bound to its channel and its member; its receipt answers
/// its request at the channel's price.
#[test]
fn tail_claims_are_bound_to_their_channel_and_member() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, m) = drawn(3, 3_000);
		let other = open(21, terms(3), 3_000);
		run_to_block(3);
		// A request of another channel, signed by that channel's key, replayed here.
		let replayed = tail(other, m, 0, 1);
		// Moved to this channel, its receipt made to match: the signature no longer does.
		let mut moved = replayed.clone();
		moved[0].request.channel = channel;
		moved[0].receipt.channel = channel;
		moved[0].receipt.request_hash = moved[0].request.hash();
		moved[0].receipt.seed = request_seed(&Poc::genesis_hash(), channel, 0, 0);
		assert_eq!(
			settle(m, settlement(channel, None, replayed)),
			Err(refused(Error::TailNotForExecutor))
		);
		assert_eq!(
			settle(m, settlement(channel, None, moved)),
			Err(refused(Error::BadRequestSignature))
		);
		// Another member's request.
		let theirs = tail(channel, if m == 1 { 2 } else { 1 }, 0, 1);
		assert_eq!(
			settle(m, settlement(channel, None, theirs)),
			Err(refused(Error::TailNotForExecutor))
		);
		// Out of order, numbered wrong, or repeated.
		let mut swapped = tail(channel, m, 0, 2);
		swapped.swap(0, 1);
		assert_eq!(
			settle(m, settlement(channel, None, swapped)),
			Err(refused(Error::TailOutOfOrder))
		);
		assert_eq!(
			settle(m, settlement(channel, None, tail(channel, m, 1, 2))),
			Err(refused(Error::TailOutOfOrder)),
			"the first tail receipt follows the voucher's count"
		);
		// A receipt the voucher covers, claimed again as tail after it: not above the
		// voucher's last (nonce, try).
		let mut again = tail(channel, m, 1, 2);
		again[0].receipt.seq = 2;
		assert_eq!(
			settle(m, settlement(channel, Some(voucher(channel, m, 2)), again)),
			Err(refused(Error::TailOutOfOrder))
		);
		let mut twice = tail(channel, m, 0, 1);
		twice.push(twice[0].clone());
		twice[1].receipt.seq = 1;
		assert_eq!(
			settle(m, settlement(channel, None, twice)),
			Err(refused(Error::TailOutOfOrder))
		);
		// A receipt that overcharges its request, or names another request.
		let mut dear = tail(channel, m, 0, 1);
		dear[0].receipt.cost += PRICE;
		assert_eq!(settle(m, settlement(channel, None, dear)), Err(refused(Error::BadReceipt)));
		let mut long = tail(channel, m, 0, 1);
		long[0].receipt.completion_tokens = 6;
		long[0].receipt.cost = (5 + 6) * PRICE;
		assert_eq!(settle(m, settlement(channel, None, long)), Err(refused(Error::BadReceipt)));
		let mut prompt = tail(channel, m, 0, 1);
		prompt[0].receipt.prompt_tokens = 4 + OVERHEAD + 1;
		prompt[0].receipt.cost = u128::from(4 + OVERHEAD + 1 + 3) * PRICE;
		assert_eq!(settle(m, settlement(channel, None, prompt)), Err(refused(Error::BadReceipt)));
		// A request beyond the channel's `max_request_tokens` (10): 4 bytes, 1 of template,
		// 6 tokens.
		let mut big = request(channel, m, 0);
		big.max_tokens = 6;
		let big = TailClaim {
			request_signature: big.sign(&Poc::genesis_hash(), &key(channel)),
			receipt: receipt(&big, 0),
			request: big,
		};
		assert_eq!(
			settle(m, settlement(channel, None, vec![big])),
			Err(refused(Error::RequestTooLarge))
		);
		assert_eq!(paid(channel, m), 0);
		// The honest tail is paid, with its tail fee.
		assert_ok!(settle(m, settlement(channel, None, tail(channel, m, 0, 2))));
		assert_eq!(paid(channel, m), 2 * RECEIPT_COST + VALIDATOR_SHARE.mul_ceil(2 * RECEIPT_COST));
	});
}

#[test]
fn only_a_standing_committee_member_settles_with_its_worker_key() {
	ExtBuilder::default().hosts(&[1, 2, 3, 4]).build_and_execute(|| {
		let channel = open(20, terms(1), 1_000);
		run_to_block(2);
		let committee = crate::Committees::<Test>::get(channel).unwrap();
		let m = (1..=4).find(|i| committee.contains(&account(*i))).unwrap();
		let outsider = (1..=4).find(|i| !committee.contains(&account(*i))).unwrap();
		assert_eq!(
			settle(outsider, settlement(channel, Some(voucher(channel, outsider, 1)), vec![])),
			Err(refused(Error::NotInCommittee))
		);
		// Signed by another worker key.
		let settle_call = settlement(channel, Some(voucher(channel, m, 1)), vec![]);
		let signature = settle_call.sign(&Poc::genesis_hash(), &account(m), &worker(outsider));
		assert_eq!(
			run_duty(crate::Call::settle { executor: account(m), settle: settle_call, signature }),
			Err(Refused::Pool(InvalidTransaction::BadProof.into()))
		);
		// A junk worker signature is refused before the channel key's signatures are
		// checked (these are bad too).
		let mut forged = settlement(channel, None, tail(channel, m, 0, 2));
		forged.tail[1].request_signature = forged.tail[0].request_signature;
		let signature = forged.sign(&Poc::genesis_hash(), &account(m), &worker(outsider));
		assert_eq!(
			run_duty(crate::Call::settle { executor: account(m), settle: forged, signature }),
			Err(Refused::Pool(InvalidTransaction::BadProof.into()))
		);
		// A member that left is not paid; one that left and registered again neither.
		assert_ok!(Poc::leave(RuntimeOrigin::signed(account(m))));
		assert_eq!(
			settle(m, settlement(channel, Some(voucher(channel, m, 1)), vec![])),
			Err(Refused::Pool(InvalidTransaction::BadSigner.into()))
		);
		assert_ok!(Poc::register_host(
			RuntimeOrigin::signed(account(m)),
			worker(m).public(),
			gonka_primitives::duty::prove_key_ownership(
				&Poc::genesis_hash(),
				&account(m),
				&worker(m)
			),
			b"http://10.0.0.9:8080".to_vec(),
			vec![1, 2],
		));
		assert_eq!(
			settle(m, settlement(channel, Some(voucher(channel, m, 1)), vec![])),
			Err(refused(Error::NotStanding))
		);
		// Dispatched without the pool's check: the call checks again.
		let settle_call = settlement(channel, Some(voucher(channel, m, 1)), vec![]);
		let signature = settle_call.sign(&Poc::genesis_hash(), &account(m), &worker(m));
		assert_eq!(
			dispatch_duty(crate::Call::settle {
				executor: account(m),
				settle: settle_call,
				signature
			}),
			Err(Refused::Call(Error::<Test>::NotStanding.into()))
		);
	});
}

/// Equivocation pays once. A developer that signs two vouchers of the same count (another
/// tree, a cheaper amount) gets the member's settlement of one only: a later settlement
/// must cover more receipts (the member checks a voucher against its own journal before it
/// counts it, amendment 2). An executor that signs a second receipt for a request the
/// voucher covers cannot claim it as tail: a tail is above the voucher's last (nonce, try).
#[test]
fn equivocation_pays_once() {
	ExtBuilder::default().hosts(&[1, 2, 3]).build_and_execute(|| {
		let (channel, m) = drawn(1, 2_000);
		// The developer's second voucher for the same 6 receipts, each at half the cost.
		let cheap: Vec<_> = (0..6u32)
			.map(|seq| {
				let mut receipt = receipt(&request(channel, m, u64::from(seq)), seq);
				receipt.cost = RECEIPT_COST / 2;
				receipt
			})
			.collect();
		let tree = SumTree::from_receipts(&cheap).unwrap();
		let equivocated = Voucher {
			channel,
			executor: account(m),
			count: 6,
			root: tree.root().hash,
			amount: tree.root().sum,
			last: (5, 0),
		};
		let signature = equivocated.sign(&Poc::genesis_hash(), &key(channel));
		let equivocated = SignedVoucher { voucher: equivocated, signature };
		assert_ne!(equivocated.voucher.root, voucher(channel, m, 6).voucher.root);
		assert_ok!(settle(m, settlement(channel, Some(voucher(channel, m, 6)), vec![])));
		assert_eq!(paid(channel, m), 6 * RECEIPT_COST);
		assert_eq!(
			settle(m, settlement(channel, Some(equivocated), vec![])),
			Err(Refused::Pool(InvalidTransaction::Stale.into())),
			"the same count again: nothing new"
		);
		// The executor's second receipt for vouchered request 5 (another output), claimed
		// as the tail's first leaf.
		let mut second = tail(channel, m, 5, 6);
		second[0].receipt.output_hash = H256::repeat_byte(9);
		second[0].receipt.seq = 6;
		assert_eq!(
			settle(m, settlement(channel, Some(voucher(channel, m, 6)), second)),
			Err(refused(Error::TailOutOfOrder))
		);
		assert_eq!(paid(channel, m), 6 * RECEIPT_COST, "paid once");
	});
}
