// Governance end to end through @polkadot/api, the library Polkadot.js Apps is built on,
// against a running `gonka-node --dev` with no worker (the genesis hosts' voting power
// carries over from epoch to epoch). It follows docs/governance.md's Apps walkthrough:
// Alice proposes registering a second model, Alice and Bob vote aye, Charlie closes, and
// the record is read back from chain state, then seen approved at the next epoch start.
//
// Usage: node governance.mjs ws://127.0.0.1:PORT
// Prints one line per step; exits 1 with the reason on the first failed check.

import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { check, findEvent, step, submit, waitEvent } from './common.mjs';

const url = process.argv[2];
if (!url) {
	console.error('usage: node governance.mjs ws://HOST:PORT');
	process.exit(2);
}

// The whole run's deadline (the dev chain makes a block a second; an epoch is 16 blocks).
const DEADLINE_MS = 240_000;
// How many blocks to wait for the next epoch start after the proposal passed.
const APPROVAL_BLOCKS = 40;

/// The hosts with voting power in force: their power in the generation in force, unless
/// they left since (`pallet_poc::Pallet::voting_power`).
async function powerHolders(api) {
	const generation = (await api.query.poc.powerGeneration()).toNumber();
	const powers = await api.query.poc.powerHistory.entries(generation);
	const holders = [];
	for (const [key, power] of powers) {
		const host = key.args[1].toString();
		const departed = await api.query.poc.departures(generation, host);
		if (power.isSome && power.unwrap().toBigInt() > 0n && departed.isNone) {
			holders.push(host);
		}
	}
	return holders.sort();
}

async function main() {
	const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true });
	const keyring = new Keyring({ type: 'sr25519' });
	const alice = keyring.addFromUri('//Alice');
	const bob = keyring.addFromUri('//Bob');
	const charlie = keyring.addFromUri('//Charlie');
	step(`connected to ${(await api.rpc.system.chain()).toString()} at ${url}`);

	// Voting power: the genesis hosts, Alice and Bob.
	const holders = await powerHolders(api);
	const voters = holders.length;
	check(voters === 2, `2 hosts with voting power, got ${voters}`);
	check(
		holders.join() === [alice.address, bob.address].sort().join(),
		`Alice and Bob hold the voting power, got ${holders.join(', ')}`,
	);
	const nextId = (await api.query.models.nextModelId()).toNumber();
	check(nextId === 1, `the development chain has one model at genesis, next id ${nextId}`);

	// The record under vote: the default model's Q8_0 sibling (a record, not a file a
	// worker serves in this test).
	const digest = `0x${'8a'.repeat(32)}`;
	const record = {
		name: 'SmolLM2-135M-Instruct Q8_0',
		architecture: 'llama',
		quantization: 'Q8_0',
		weightsDigest: digest,
		tokenizerDigest: digest,
		poc: { seqLen: 64, distThreshold: 200_000_000, pMismatch: 1_000_000, pValue: 20_000_000 },
		coefficient: '1000000000000000000',
		validationThreshold: 900_000_000,
		templateOverhead: 9,
		price: 2_000,
		maxContext: 8_192,
	};
	const call = api.tx.models.registerModel(record);
	step(`proposing models.registerModel (${call.method.encodedLength} bytes) as Alice`);

	const deposit = api.consts.models.proposalDeposit.toBigInt();
	const aliceBefore = await api.query.system.account(alice.address);
	const proposed = await submit(api, api.tx.models.propose(call), alice);
	const proposedEvent = findEvent(proposed.events, 'models', 'Proposed');
	check(proposedEvent, 'models.Proposed emitted');
	const index = proposedEvent.data.index.toNumber();
	check(proposedEvent.data.proposer.toString() === alice.address, 'Alice is the proposer');
	check(proposedEvent.data.voters.toNumber() === voters, `the snapshot has ${voters} voters`);
	const totalPower = proposedEvent.data.totalPower.toBigInt();
	check(totalPower > 0n, 'the snapshot has power');
	const aliceHeld = await api.query.system.account(alice.address);
	check(
		aliceHeld.data.reserved.toBigInt() - aliceBefore.data.reserved.toBigInt() === deposit,
		`the proposal deposit (${deposit}) is held from Alice`,
	);
	const open = await api.query.models.proposals(index);
	check(open.isSome, `models.proposals(${index}) is open`);
	// The snapshot is a generation of PoC's voting power, read from `poc.powerHistory`.
	const snapshot = open.unwrap().snapshot;
	const alicePower = (await api.query.poc.powerHistory(snapshot.generation, alice.address))
		.unwrap()
		.toBigInt();
	check(alicePower === 1n, `Alice's power in the snapshot is 1, got ${alicePower}`);
	step(
		`proposal ${index} open until block ${proposedEvent.data.end}, total power ${totalPower}, ` +
			`Alice's snapshot ${alicePower}`,
	);

	for (const [name, voter] of [
		['Alice', alice],
		['Bob', bob],
	]) {
		const voted = await submit(api, api.tx.models.vote(index, 'Aye'), voter);
		const event = findEvent(voted.events, 'models', 'Voted');
		check(event, `models.Voted for ${name}`);
		check(event.data.vote.isAye, `${name}'s vote is Aye`);
		check(event.data.power.toBigInt() === 1n, `${name} votes with the genesis power 1`);
		step(`${name} voted Aye with power ${event.data.power}`);
	}
	// The same vote twice is refused, with the pallet's error.
	let refused = '';
	try {
		await submit(api, api.tx.models.vote(index, 'Aye'), bob);
	} catch (error) {
		refused = error.message;
	}
	check(refused.startsWith('models.AlreadyVoted'), `a repeated vote is refused, got "${refused}"`);
	step(`a repeated vote is refused: ${refused.split(':')[0]}`);

	// Both hosts voted aye: the proposal passes at once, whatever is left; anyone closes.
	const closed = await submit(
		api,
		// `votes`: at least the number of hosts that voted (two).
		api.tx.models.close(index, { refTime: 1_000_000_000, proofSize: 100_000 }, 2),
		charlie,
	);
	const executed = findEvent(closed.events, 'models', 'Executed');
	check(executed, 'models.Executed emitted');
	check(executed.data.result.isOk, `the call succeeded, got ${executed.data.result.toString()}`);
	const closedEvent = findEvent(closed.events, 'models', 'Closed');
	check(closedEvent, 'models.Closed emitted');
	check(closedEvent.data.outcome.isPassed, `outcome Passed, got ${closedEvent.data.outcome}`);
	check(closedEvent.data.tally.aye.toBigInt() === totalPower, 'every power unit voted aye');
	const registered = findEvent(closed.events, 'models', 'ModelRegistered');
	check(registered, 'models.ModelRegistered emitted');
	const model = registered.data.model.toNumber();
	check(model === nextId, `the new model has id ${nextId}, got ${model}`);
	step(`closed by Charlie: Passed, executed Ok, model ${model} registered`);

	check((await api.query.models.proposals(index)).isNone, 'the closed proposal is gone');
	const aliceAfter = await api.query.system.account(alice.address);
	check(
		aliceAfter.data.reserved.toBigInt() === aliceBefore.data.reserved.toBigInt(),
		"Alice's deposit is returned",
	);

	const info = (await api.query.models.registry(model)).unwrap();
	check(info.status.isProposed, `status Proposed until the next epoch, got ${info.status}`);
	check(info.record.name.toUtf8() === record.name, `name read back, got ${info.record.name.toUtf8()}`);
	check(info.record.quantization.toUtf8() === 'Q8_0', 'quantization read back');
	check(info.record.weightsDigest.toHex() === digest, 'weights digest read back');
	check(info.record.poc.seqLen.toNumber() === 64, 'seq_len read back');
	check(info.record.price.toNumber() === record.price, 'price read back');
	step(`models.registry(${model}): ${info.record.name.toUtf8()}, status ${info.status}`);

	// The next epoch start approves it.
	const approval = await waitEvent(
		api,
		'models',
		'ModelApproved',
		(event) => event.data.model.toNumber() === model,
		APPROVAL_BLOCKS,
	);
	const epoch = approval.data.epoch.toNumber();
	const approved = (await api.query.models.registry(model)).unwrap();
	check(approved.status.isApproved, `status Approved after the epoch start, got ${approved.status}`);
	const stillPower = await powerHolders(api);
	check(stillPower.length === 2, 'the genesis hosts keep their voting power across the epoch');
	step(`model ${model} approved from epoch ${epoch}; hosts with voting power: ${stillPower.length}`);

	await api.disconnect();
	step('passed');
}

const timer = setTimeout(() => {
	console.error(`[governance.mjs] timed out after ${DEADLINE_MS / 1000} s`);
	process.exit(1);
}, DEADLINE_MS);

main()
	.then(() => {
		clearTimeout(timer);
		process.exit(0);
	})
	.catch((error) => {
		console.error(`[governance.mjs] ${error.stack ?? error}`);
		process.exit(1);
	});
