// An inference channel through @polkadot/api, as docs/channels.md describes it, against a
// running `gonka-node --dev` (no worker needed: the genesis hosts have PoC weight): Charlie
// proves that he holds a fresh channel key, opens a channel of two slots on the default
// model with the escrow it needs, sees its committee drawn from the registered hosts in a
// later block, tops it up, is refused a second channel with the same key and closes it; a
// committee member settles it with Charlie's voucher, in a duty transaction its worker key
// signs (a general transaction with no signer, built here byte by byte), and is paid from
// the escrow; then every member waives the ended channel (another duty transaction), and
// the last waiver finalizes it at once, long before its planned end plus the settle window:
// Charlie gets the rest back in that block.
//
// Usage: node channels.mjs ws://127.0.0.1:PORT
// Prints one line per step; exits 1 with the reason on the first failed check.

import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import {
	ChannelMessageKind,
	channelMessage,
	check,
	DutyKind,
	dutyMessage,
	findEvent,
	step,
	submit,
	submitGeneral,
	waitEvent,
} from './common.mjs';

const url = process.argv[2];
if (!url) {
	console.error('usage: node channels.mjs ws://HOST:PORT');
	process.exit(2);
}

const DEADLINE_MS = 180_000;
const MODEL = 0; // SmolLM2-135M-Instruct on the dev chain
const SLOTS = 2;
const MAX_REQUEST_TOKENS = 512;
const DURATION = 50; // blocks
// The member's settlement: Charlie vouchered `RECEIPTS` receipts of `RECEIPT_TOKENS` tokens
// each (prompt and completion, within `MAX_REQUEST_TOKENS`), at the channel's price.
const RECEIPTS = 2;
const RECEIPT_TOKENS = 1000;
// The genesis hosts' worker keys (`runtime/src/genesis_config_presets.rs`, `dev_hosts`:
// `Sr25519Keyring::AliceStash` and `BobStash`, whose secret URIs are `//Alice//stash` and
// `//Bob//stash`).
const WORKER_URIS = ['//Alice//stash', '//Bob//stash'];
// The root of the vouchered receipts' sum tree (`gonka_primitives::channel::SumTree`). The
// chain does not check it when it settles: it is what the settlement's samples are proved
// against later, by the validators' verdicts and failure reports (no worker runs here).
const ROOT = `0x${'07'.repeat(32)}`;
// `Perbill`'s parts in one (`mul_floor`: `amount × parts / 10^9`, rounded down).
const PERBILL = 1_000_000_000n;

// `gonka_primitives::channel::channel_key_message`: what the channel key signs to prove
// that `developer` holds it on this chain.
function channelKeyMessage(api, developer) {
	return Buffer.concat([
		Buffer.from('gonka/channel-key'),
		Buffer.from([1]),
		api.genesisHash.toU8a(),
		developer.publicKey,
	]);
}

async function main() {
	const provider = new WsProvider(url);
	const api = await ApiPromise.create({ provider, noInitWarn: true });
	const keyring = new Keyring({ type: 'sr25519' });
	const charlie = keyring.addFromUri('//Charlie');
	const channelKey = keyring.addFromUri('//Charlie//channel//0');

	const quoted = await api.call.inferenceApi.price(MODEL);
	check(quoted.isSome, `model ${MODEL} has a price`);
	const price = quoted.unwrap().toBigInt();
	// The price may move before the channel opens: cap it at twice, and deposit for the cap:
	// each slot's share of the deposit pays the member's voucher below at the cap (and is at
	// least the chain's least, a full request a slot), whichever hosts the slots are drawn to
	// (one host may hold both slots, or each one).
	const cap = price * 2n;
	const slotTokens = Math.max(RECEIPTS * RECEIPT_TOKENS, MAX_REQUEST_TOKENS);
	const deposit = BigInt(SLOTS) * BigInt(slotTokens) * cap;
	const terms = {
		model: MODEL,
		channelKey: channelKey.publicKey,
		priceCap: cap,
		committee: SLOTS,
		duration: DURATION,
		maxRequestTokens: MAX_REQUEST_TOKENS,
	};
	const proof = channelKey.sign(channelKeyMessage(api, charlie));
	// The open fee governance set (the dev chain's genesis sets the rules).
	const params = await api.query.channels.params();
	const fee = params.openFee.toBigInt();
	check(params.settleWindow.toNumber() === 20, `the dev chain settles in 20 blocks, got ${params.settleWindow}`);
	const before = (await api.query.system.account(charlie.address)).data;

	const opened = await submit(api, api.tx.channels.openChannel(terms, proof, deposit), charlie);
	const openedEvent = findEvent(opened.events, 'channels', 'ChannelOpened');
	check(openedEvent, 'channels.ChannelOpened emitted');
	const channel = openedEvent.data.channel.toNumber();
	check(openedEvent.data.developer.toString() === charlie.address, 'Charlie opened it');
	check(openedEvent.data.price.toBigInt() <= cap, 'the price is at most the cap');
	check(openedEvent.data.deposit.toBigInt() === deposit, 'the deposit is as sent');
	const record = (await api.query.channels.channels(channel)).unwrap();
	check(record.status.isOpen, `the channel is open, got ${record.status}`);
	check(Buffer.from(record.terms.channelKey.toU8a()).equals(Buffer.from(channelKey.publicKey)), 'the key is stored');
	const after = (await api.query.system.account(charlie.address)).data;
	check(
		after.reserved.toBigInt() - before.reserved.toBigInt() === deposit,
		`the deposit (${deposit}) is held from Charlie`,
	);
	check(
		before.free.toBigInt() - after.free.toBigInt() >= deposit + fee,
		`Charlie paid the open fee (${fee}) besides the deposit`,
	);
	step(
		`channel ${channel} open until block ${openedEvent.data.ends}: price ${openedEvent.data.price}, ` +
			`deposit ${deposit}, fee ${fee}`,
	);

	// The committee is drawn in a later block, from randomness Charlie could not know.
	const drawn = await waitEvent(
		api,
		'channels',
		'CommitteeDrawn',
		(event) => event.data.channel.toNumber() === channel,
		SLOTS + 5,
	);
	const committee = drawn.data.committee.map((host) => host.toString());
	check(committee.length === SLOTS, `${SLOTS} slots filled, got ${committee.length}`);
	for (const host of committee) {
		check((await api.query.poc.hosts(host)).isSome, `committee member ${host} is a registered host`);
	}
	const stored = (await api.query.channels.committees(channel)).unwrap().map((host) => host.toString());
	check(JSON.stringify(stored) === JSON.stringify(committee), 'the committee is stored as drawn');
	step(`committee of channel ${channel}: ${committee.join(', ')}`);

	const topUp = price * 100n;
	const toppedUp = await submit(api, api.tx.channels.topUp(channel, topUp), charlie);
	const toppedEvent = findEvent(toppedUp.events, 'channels', 'ChannelToppedUp');
	check(toppedEvent, 'channels.ChannelToppedUp emitted');
	check(toppedEvent.data.deposited.toBigInt() === deposit + topUp, 'the top-up adds to the deposit');
	step(`topped up by ${topUp}: ${toppedEvent.data.deposited} deposited`);

	// A channel key serves one channel at a time: a second channel with it is refused.
	let refused = '';
	try {
		await submit(api, api.tx.channels.openChannel(terms, proof, deposit), charlie);
	} catch (error) {
		refused = error.message;
	}
	check(refused.startsWith('channels.ChannelKeyInUse'), `the key's second channel is refused, got "${refused}"`);
	step(`a second channel with the same key is refused: ${refused.split(':')[0]}`);

	const closed = await submit(api, api.tx.channels.closeChannel(channel), charlie);
	const closedEvent = findEvent(closed.events, 'channels', 'ChannelClosed');
	check(closedEvent, 'channels.ChannelClosed emitted');
	const closedRecord = (await api.query.channels.channels(channel)).unwrap();
	check(closedRecord.status.isClosed, `the channel is closed, got ${closedRecord.status}`);
	step(`channel ${channel} closed at block ${closedEvent.data.ends}; finalized at ${closedRecord.finalizes}`);

	// A committee member settles (`pallets/channels/src/settlement.rs`) in the settle
	// window, before the channel is finalized, with Charlie's voucher to it.
	const member = committee[0];
	const host = (await api.query.poc.hosts(member)).unwrap();
	const worker = WORKER_URIS.map((uri) => keyring.addFromUri(uri)).find((pair) =>
		Buffer.from(pair.publicKey).equals(Buffer.from(host.workerKey.toU8a())),
	);
	check(worker, `the worker key of ${member} is a genesis host's`);
	const channelPrice = openedEvent.data.price.toBigInt();
	const amount = BigInt(RECEIPTS) * BigInt(RECEIPT_TOKENS) * channelPrice;
	// What the chain requires of it (`check_settle`, `check_samples`): it pays at most the
	// member's allowance (its slots' share of the deposit: a larger voucher is paid only
	// that much), more than its fee (none: a member's first settlement was prepaid with the
	// channel's fee), and the validators' share of it (`inference.params().validatorShare`)
	// pays `SampleFee` for each of its answers, so that every receipt is sampled (else its
	// samples are the lottery the share pays for, `paid_target`): its samples and their
	// most second answers (`⌈samples / 10⌉`, `pallets/channels/src/seconds.rs`). A new
	// host's validation target is 1 (`gonka_primitives::inference::validation_target` at
	// reputation 0): at most a sample per vouchered receipt, `⌈target × RECEIPTS⌉`.
	const allowance = (await api.call.channelsApi.allowance(channel, member)).toBigInt();
	check(amount <= allowance, `the voucher's amount ${amount} is within the allowance ${allowance}`);
	const shareParts = (await api.query.inference.params()).validatorShare.toBigInt();
	const share = (amount * shareParts) / PERBILL;
	const sampleFee = api.consts.channels.sampleFee.toBigInt();
	const answers = BigInt(RECEIPTS + Math.ceil(RECEIPTS / 10));
	check(
		share >= answers * sampleFee,
		`the validators' share ${share} pays ${answers} answers at ${sampleFee}`,
	);
	// `gonka_primitives::channel::Voucher`: Charlie owes `amount` for the member's receipts
	// 0..RECEIPTS, the last of them request (RECEIPTS - 1, first try); his channel key signs it.
	const voucher = api.createType('GonkaPrimitivesChannelVoucher', {
		channel,
		executor: member,
		count: RECEIPTS,
		root: ROOT,
		amount,
		last: [RECEIPTS - 1, 0],
	});
	const voucherSignature = channelKey.sign(channelMessage(api, ChannelMessageKind.Voucher, voucher));
	// `gonka_primitives::channel::ChannelSettle`: the voucher, no receipt claimed as tail.
	const settlement = api.createType('GonkaPrimitivesChannelChannelSettle', {
		channel,
		voucher: { voucher, signature: voucherSignature },
		tail: [],
	});
	// The member's worker key signs it as the member's duty (`authorize_settle` checks it).
	const dutySignature = worker.sign(dutyMessage(api, DutyKind.ChannelSettle, member, settlement));
	const call = api.tx.channels.settle(member, settlement, dutySignature);
	const settled = await submitGeneral(api, provider, call);
	const settledEvent = findEvent(settled.events, 'channels', 'ChannelSettled');
	check(settledEvent, 'channels.ChannelSettled emitted');
	const { data } = settledEvent;
	// The member's total paid from the escrow (its first settlement: this one's amount).
	const paid = data.paid.toBigInt();
	check(data.channel.toNumber() === channel, 'the settlement is of the channel');
	check(data.executor.toString() === member, `the member settled, got ${data.executor}`);
	check(data.receipts.toNumber() === RECEIPTS, `${RECEIPTS} receipts settled, got ${data.receipts}`);
	check(data.tail.toNumber() === 0, `no tail claim, got ${data.tail}`);
	check(data.root.unwrap().toHex() === ROOT, "the voucher's root is recorded");
	check(data.fee.toBigInt() === 0n, `the first settlement pays no fee, got ${data.fee}`);
	check(paid === amount, `the voucher's amount ${amount} paid, got ${paid}`);
	// The validators' share waits in the pot (`sampling.rs`, `record_settlement`); the rest
	// (`amount` in the event) goes into the member's pending work.
	const sampled = findEvent(settled.events, 'channels', 'SettlementSampled');
	check(sampled, 'channels.SettlementSampled emitted');
	check(sampled.data.share.toBigInt() === share, `the validators' share is ${share}, got ${sampled.data.share}`);
	check(data.amount.toBigInt() === paid - share, `the member is credited ${paid - share}, got ${data.amount}`);
	// All of it from Charlie's escrow, in the settlement's block.
	const reserved = async (at) =>
		(await api.query.system.account.at(at, charlie.address)).data.reserved.toBigInt();
	const parent = (await api.rpc.chain.getHeader(settled.blockHash)).parentHash;
	check(
		(await reserved(parent)) - (await reserved(settled.blockHash)) === paid,
		`the ${paid} paid is taken from Charlie's escrow`,
	);
	const settledInfo = (await api.call.channelsApi.settled(channel, member)).unwrap();
	check(settledInfo.paid.toBigInt() === paid, `the member's settled total is ${paid}, got ${settledInfo.paid}`);
	check(settledInfo.settlements.toNumber() === 1, `one settlement, got ${settledInfo.settlements}`);
	const settledRecord = (await api.query.channels.channels(channel)).unwrap();
	check(settledRecord.settled.toBigInt() === paid, `the channel records ${paid} settled`);
	step(
		`${member} settled channel ${channel} (settlement ${data.settlement}): ${RECEIPTS} receipts, ` +
			`${paid} paid (${share} to the validators' pot, ${data.amount} to its pending work)`,
	);

	// Every member waives the ended channel (`pallets/channels/src/waivers.rs`): its worker
	// key signs `gonka_primitives::channel::ChannelWaiver`, naming the channel's key and the
	// receipts the member settled (a waiver signed on another fork waives nothing here).
	// The last waiver finalizes the channel in its own block.
	const held = (await api.query.system.account(charlie.address)).data.reserved.toBigInt();
	const members = [...new Set(committee)];
	let finalized = null;
	for (const [index, waiving] of members.entries()) {
		const waivingHost = (await api.query.poc.hosts(waiving)).unwrap();
		const waivingWorker = WORKER_URIS.map((uri) => keyring.addFromUri(uri)).find((pair) =>
			Buffer.from(pair.publicKey).equals(Buffer.from(waivingHost.workerKey.toU8a())),
		);
		check(waivingWorker, `the worker key of ${waiving} is a genesis host's`);
		const settledSoFar = (await api.call.channelsApi.settled(channel, waiving)).unwrapOr(null);
		const waiver = api.createType('GonkaPrimitivesChannelChannelWaiver', {
			channel,
			channelKey: channelKey.publicKey,
			receipts: settledSoFar ? settledSoFar.receipts.toNumber() : 0,
		});
		const waiverSignature = waivingWorker.sign(dutyMessage(api, DutyKind.ChannelWaiver, waiving, waiver));
		const waived = await submitGeneral(api, provider, api.tx.channels.waiveChannel(waiving, waiver, waiverSignature));
		check(findEvent(waived.events, 'channels', 'ChannelWaived'), `channels.ChannelWaived emitted for ${waiving}`);
		const last = index === members.length - 1;
		const event = findEvent(waived.events, 'channels', 'ChannelFinalized');
		check(Boolean(event) === last, `the channel is finalized by the last waiver only (waiver ${index + 1} of ${members.length})`);
		if (last) {
			finalized = event;
			const block = (await api.rpc.chain.getHeader(waived.blockHash)).number.toNumber();
			check(
				block < closedRecord.finalizes.toNumber(),
				`finalized at block ${block}, before its planned finalization at ${closedRecord.finalizes}`,
			);
		}
		step(`${waiving} waived channel ${channel}${last ? ': finalized at once' : ''}`);
	}
	// `tick_impls.rs`, `finalize`: the deposit less what was settled.
	const refund = deposit + topUp - paid;
	check(
		finalized.data.refund.toBigInt() === refund,
		`the escrow less the settlement (${deposit + topUp} - ${paid}) refunded, got ${finalized.data.refund}`,
	);
	check((await api.query.channels.channels(channel)).isNone, 'the record is removed');
	const released = (await api.query.system.account(charlie.address)).data.reserved.toBigInt();
	check(held - released === refund, 'the rest of the escrow is released to Charlie');
	step(`channel ${channel} finalized: ${finalized.data.refund} refunded (${deposit + topUp} held - ${paid} paid)`);

	await api.disconnect();
	step('passed');
}

const timer = setTimeout(() => {
	console.error(`[channels.mjs] timed out after ${DEADLINE_MS / 1000} s`);
	process.exit(1);
}, DEADLINE_MS);

main()
	.then(() => {
		clearTimeout(timer);
		process.exit(0);
	})
	.catch((error) => {
		console.error(`[channels.mjs] ${error.stack ?? error}`);
		process.exit(1);
	});
