// An inference channel through @polkadot/api, as docs/channels.md describes it, against a
// running `gonka-node --dev` (no worker needed: the genesis hosts have PoC weight): Charlie
// proves that he holds a fresh channel key, opens a channel of two slots on the default
// model with the escrow it needs, sees its committee drawn from the registered hosts in a
// later block, tops it up, is refused a second channel with the same key, closes it, and
// gets his escrow back when it is finalized (its planned end plus the settle window).
//
// Usage: node channels.mjs ws://127.0.0.1:PORT
// Prints one line per step; exits 1 with the reason on the first failed check.

import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { check, findEvent, step, submit, waitEvent } from './common.mjs';

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
	const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true });
	const keyring = new Keyring({ type: 'sr25519' });
	const charlie = keyring.addFromUri('//Charlie');
	const channelKey = keyring.addFromUri('//Charlie//channel//0');

	const quoted = await api.call.inferenceApi.price(MODEL);
	check(quoted.isSome, `model ${MODEL} has a price`);
	const price = quoted.unwrap().toBigInt();
	// The price may move before the channel opens: cap it at twice, and deposit for the cap.
	const cap = price * 2n;
	const deposit = BigInt(SLOTS) * BigInt(MAX_REQUEST_TOKENS) * cap;
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

	// Its planned end plus the settle window later, nothing settled: all of it comes back.
	const held = (await api.query.system.account(charlie.address)).data.reserved.toBigInt();
	const finalized = await waitEvent(
		api,
		'channels',
		'ChannelFinalized',
		(event) => event.data.channel.toNumber() === channel,
		DURATION + 30,
	);
	check(
		finalized.data.refund.toBigInt() === deposit + topUp,
		`the whole escrow refunded, got ${finalized.data.refund}`,
	);
	check((await api.query.channels.channels(channel)).isNone, 'the record is removed');
	const released = (await api.query.system.account(charlie.address)).data.reserved.toBigInt();
	check(held - released === deposit + topUp, 'the escrow is released to Charlie');
	step(`channel ${channel} finalized: ${finalized.data.refund} refunded`);

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
