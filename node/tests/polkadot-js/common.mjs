// What the end-to-end scripts share: checks, step lines, and submitting a transaction.

import process from 'node:process';

export function check(condition, message) {
	if (!condition) throw new Error(`check failed: ${message}`);
}

export function step(message) {
	console.log(`[${process.argv[1].split('/').pop()}] ${message}`);
}

// Signs and submits `tx`, resolves with its events once it is in a block; rejects with
// the decoded module error when the extrinsic failed.
export function submit(api, tx, signer) {
	return new Promise((resolve, reject) => {
		let unsubscribe = () => {};
		tx.signAndSend(signer, ({ status, events, dispatchError }) => {
			if (status.isInvalid || status.isDropped || status.isUsurped) {
				unsubscribe();
				reject(new Error(`transaction ${status.type}`));
			}
			// `--dev` finalizes each block as it is sealed: the pool may report the block as
			// finalized without an in-block status first.
			if (!status.isInBlock && !status.isFinalized) return;
			unsubscribe();
			if (dispatchError) {
				reject(dispatchFailure(api, dispatchError));
				return;
			}
			resolve({
				blockHash: status.isInBlock ? status.asInBlock : status.asFinalized,
				events: events.map(({ event }) => event),
			});
		})
			.then((u) => {
				unsubscribe = u;
			})
			.catch(reject);
	});
}

// The error a failed dispatch stands for: `section.Name: docs` for a module error.
function dispatchFailure(api, dispatchError) {
	if (!dispatchError.isModule) return new Error(dispatchError.toString());
	const { section, name, docs } = api.registry.findMetaError(dispatchError.asModule);
	return new Error(`${section}.${name}: ${docs.join(' ')}`);
}

export function findEvent(events, section, method) {
	return events.find((event) => event.section === section && event.method === method);
}

// Resolves with the first `section.method` event, from the next block's on, for which
// `matches(event)` holds; rejects after `blocks` blocks without one.
export function waitEvent(api, section, method, matches, blocks) {
	return new Promise((resolve, reject) => {
		let seen = 0;
		let unsubscribe = () => {};
		api.query.system
			.events((records) => {
				seen += 1;
				const event = records
					.map(({ event }) => event)
					.find((event) => event.section === section && event.method === method && matches(event));
				if (event) {
					unsubscribe();
					resolve(event);
				} else if (seen > blocks) {
					unsubscribe();
					reject(new Error(`no ${section}.${method} within ${blocks} blocks`));
				}
			})
			.then((u) => {
				unsubscribe = u;
			})
			.catch(reject);
	});
}

// ---- Signed payloads ----------------------------------------------------------------------

// `gonka_primitives::channel::ChannelMessageKind`: the byte of each channel message kind.
export const ChannelMessageKind = { Request: 0, Receipt: 1, Voucher: 2 };

// `gonka_primitives::channel::ChannelMessage::signing_message`: what a channel key (or a
// worker key, for a receipt) signs, `"gonka/channel" ‖ u8(CHANNEL_MESSAGE_VERSION = 1) ‖
// u8(kind) ‖ genesis hash ‖ SCALE(message)`; `message` is a codec (`api.createType`).
export function channelMessage(api, kind, message) {
	return Buffer.concat([
		Buffer.from('gonka/channel'),
		Buffer.from([1, kind]),
		api.genesisHash.toU8a(),
		message.toU8a(),
	]);
}

// `gonka_primitives::duty::DutyKind`: the byte of each duty a worker key signs (6 and 7
// are kept for confirmation PoC).
export const DutyKind = {
	PocCommit: 0,
	PocValidation: 1,
	InferenceFinish: 2,
	InferenceValidation: 3,
	InvalidationVote: 4,
	MissingValidation: 5,
	ChannelSettle: 8,
	ReceiptVerdicts: 9,
	FailureReport: 10,
	ReceiptVote: 11,
	ChannelWaiver: 12,
	MissedSamples: 13,
	DeliveryAck: 14,
};

// `gonka_primitives::duty::Duty::signing_message`: what `host`'s worker key signs for a
// duty, `"gonka/duty" ‖ u8(PAYLOAD_VERSION = 2) ‖ u8(kind) ‖ genesis hash ‖ SCALE(host) ‖
// SCALE(payload)`; `payload` is a codec (`api.createType`).
export function dutyMessage(api, kind, host, payload) {
	return Buffer.concat([
		Buffer.from('gonka/duty'),
		Buffer.from([2, kind]),
		api.genesisHash.toU8a(),
		api.createType('AccountId32', host).toU8a(),
		payload.toU8a(),
	]);
}

// ---- General (version 5) transactions -----------------------------------------------------

// The explicit part of each of the runtime's transaction extensions
// (`gonka_runtime::TxExtension`) in a duty transaction, which has no signer: only
// `CheckMortality` (an immortal era, `0x00`), `CheckNonce` (compact 0) and
// `ChargeTransactionPayment` (a compact tip of 0) encode anything. With no signer neither
// the nonce nor a fee is taken; `AuthorizeCall` makes the origin `Authorized` through the
// call's `#[pallet::authorize]` rule. `StorageWeightReclaim` wraps the others and adds nothing.
const EXPLICIT = {
	AuthorizeCall: [],
	CheckNonZeroSender: [],
	CheckSpecVersion: [],
	CheckTxVersion: [],
	CheckGenesis: [],
	CheckMortality: [0x00],
	CheckNonce: [0x00],
	CheckWeight: [],
	ChargeTransactionPayment: [0x00],
	StorageWeightReclaim: [],
};

// The extension version the general transaction names (the metadata lists only 0).
const EXTENSION_VERSION = 0;

// The runtime's extensions of version `EXTENSION_VERSION`, in order, from its metadata.
function extensionsOf(api) {
	const { transactionExtensions, transactionExtensionsByVersion } = api.registry.metadata.extrinsic;
	const all = transactionExtensions.map((extension) => extension.identifier.toString());
	if (!transactionExtensionsByVersion) return all;
	for (const [version, indices] of transactionExtensionsByVersion.entries()) {
		if (version.toNumber() === EXTENSION_VERSION) return indices.map((index) => all[index.toNumber()]);
	}
	throw new Error(`the runtime has no transaction extensions of version ${EXTENSION_VERSION}`);
}

// `call` as a general transaction with no signature (a duty transaction, as the worker's
// `ChainClient::submit_duty` sends it): `compact(length) ‖ 0x45 (format 5 | general bit
// 0x40) ‖ u8(extension version) ‖ each extension's explicit part ‖ the call`, on this
// runtime `compact(length) ‖ 45 00 ‖ 00 00 00 ‖ pallet index ‖ call index ‖ arguments`.
export function generalTransaction(api, call) {
	const extensions = extensionsOf(api).map((identifier) => {
		const explicit = EXPLICIT[identifier];
		if (!explicit) throw new Error(`unknown transaction extension ${identifier}`);
		return Buffer.from(explicit);
	});
	const body = Buffer.concat([
		Buffer.from([0x45, EXTENSION_VERSION]),
		...extensions,
		Buffer.from(call.method.toU8a()),
	]);
	return Buffer.concat([Buffer.from(api.createType('Compact<u32>', body.length).toU8a()), body]);
}

// Submits `call` (e.g. `api.tx.channels.settle(...)`) as a general transaction through
// `provider`, the API's WebSocket provider: the bytes go to the node's RPC as they are.
// (`api.rpc.author` takes an `Extrinsic`, and @polkadot/api 16's `Extrinsic` encodes a
// general transaction wrongly, wrapped in a second length prefix and version byte; its
// lower-level `GeneralExtrinsic` type encodes the same bytes as `generalTransaction`.)
// Resolves with its block and its events once it is in a block; rejects with the pool's
// reason (an `authorize` rule's `Custom` code decoded as the call's pallet's error) or the
// decoded dispatch error.
export function submitGeneral(api, provider, call) {
	const hex = `0x${generalTransaction(api, call).toString('hex')}`;
	return new Promise((resolve, reject) => {
		let subscription = null;
		let done = false;
		const unsubscribe = () => {
			if (subscription !== null) {
				provider.unsubscribe('author_extrinsicUpdate', 'author_unwatchExtrinsic', subscription).catch(() => {});
			}
		};
		const finish = (settle) => {
			if (done) return;
			done = true;
			unsubscribe();
			settle();
		};
		provider
			.subscribe('author_extrinsicUpdate', 'author_submitAndWatchExtrinsic', [hex], (error, status) => {
				if (error) return finish(() => reject(error));
				if (status === 'invalid' || status === 'dropped' || status?.usurped) {
					return finish(() => reject(new Error(`transaction ${JSON.stringify(status)}`)));
				}
				// `--dev` may report the block as finalized without an in-block status first.
				const blockHash = status?.inBlock ?? status?.finalized;
				if (blockHash) finish(() => eventsOf(api, provider, blockHash, hex).then(resolve, reject));
			})
			.then((id) => {
				subscription = id;
				if (done) unsubscribe();
			})
			.catch((error) => finish(() => reject(poolRefusal(api, call, error))));
	});
}

// The pool's refusal of `call`: an `authorize` rule's `InvalidTransaction::Custom(code)` is
// the index of the pallet's error (`pallet_poc::validity::error_code`).
function poolRefusal(api, call, error) {
	const custom = /Custom error: (\d+)/.exec(error.message);
	if (!custom) return error;
	const { section, name, docs } = api.registry.findMetaError(
		new Uint8Array([call.callIndex[0], Number(custom[1])]),
	);
	return new Error(`${section}.${name} (refused by the pool): ${docs.join(' ')}`);
}

// The events of the extrinsic `hex` in block `blockHash` (found among the block's raw
// extrinsics), or its decoded dispatch error.
async function eventsOf(api, provider, blockHash, hex) {
	const { block } = await provider.send('chain_getBlock', [blockHash]);
	const index = block.extrinsics.indexOf(hex);
	if (index < 0) throw new Error(`the transaction is not in block ${blockHash}`);
	const events = (await api.query.system.events.at(blockHash))
		.filter(({ phase }) => phase.isApplyExtrinsic && phase.asApplyExtrinsic.toNumber() === index)
		.map(({ event }) => event);
	const failed = findEvent(events, 'system', 'ExtrinsicFailed');
	if (failed) throw dispatchFailure(api, failed.data.dispatchError);
	return { blockHash, events };
}
