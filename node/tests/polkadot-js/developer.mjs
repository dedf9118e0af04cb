// A developer's request through @polkadot/api, as docs/developer.md shows it: quote the
// escrow, sign `inference.request` with a funded account, wait for the executor's
// `RequestFinished`, read the completion from chain state and print it with its cost.
//
// Usage: node developer.mjs ws://127.0.0.1:9944 [prompt]
// Prints the answer, then one line with the cost; exits 1 with the reason on failure.

import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';

const url = process.argv[2] ?? 'ws://127.0.0.1:9944';
const prompt = process.argv[3] ?? 'What is the capital of France?';
const MODEL = 0; // SmolLM2-135M-Instruct on the dev chain: `api.query.models.registry.entries()`
const MAX_TOKENS = 32;
const NGNK_PER_GNK = 1_000_000_000n;
const TIMEOUT_MS = 180_000;

const gnk = (amount) => {
	const whole = amount / NGNK_PER_GNK;
	const fraction = (amount % NGNK_PER_GNK).toString().padStart(9, '0').replace(/0+$/, '');
	return fraction ? `${whole}.${fraction} GNK` : `${whole} GNK`;
};

async function main() {
	const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true });
	const developer = new Keyring({ type: 'sr25519' }).addFromUri('//Charlie');

	// What the request will hold (the runtime API `InferenceApi::quote`).
	const quote = await api.call.inferenceApi.quote(MODEL, new TextEncoder().encode(prompt).length, MAX_TOKENS);
	if (quote.isNone) throw new Error(`model ${MODEL} is not approved on this chain`);

	// Sign and send; the `RequestSubmitted` event names the request and its executor.
	const sampling = { temperatureMilli: 0, topP: 1_000_000_000 }; // greedy, no nucleus cut
	const submitted = await new Promise((resolve, reject) => {
		api.tx.inference
			.request(MODEL, prompt, MAX_TOKENS, sampling)
			.signAndSend(developer, ({ status, events, dispatchError }) => {
				if (dispatchError) {
					const error = dispatchError.isModule ? api.registry.findMetaError(dispatchError.asModule) : null;
					reject(new Error(error ? `${error.section}.${error.name}` : dispatchError.toString()));
				} else if (status.isInBlock || status.isFinalized) {
					const record = events.find(({ event }) => api.events.inference.RequestSubmitted.is(event));
					if (record) resolve(record.event.data);
				} else if (status.isInvalid || status.isDropped) {
					reject(new Error(`transaction ${status.type}`));
				}
			})
			.catch(reject);
	});
	const id = submitted.request.toNumber();
	console.error(`request ${id}: executor ${submitted.executor}, escrow ${gnk(submitted.escrow.toBigInt())}`);

	// Wait for the executor's result in the finalized blocks' events.
	const finished = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`no result within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
		api.query.system.events((records) => {
			for (const { event } of records) {
				if (api.events.inference.RequestFinished.is(event) && event.data.request.toNumber() === id) {
					clearTimeout(timer);
					resolve(event.data);
				}
				if (api.events.inference.RequestClosed.is(event) && event.data.request.toNumber() === id) {
					clearTimeout(timer);
					reject(new Error(`request ${id} closed without a result: ${event.data.outcome}`));
				}
			}
		});
	});
	const output = (await api.query.inference.outputs(id)).unwrap();
	console.log(new TextDecoder().decode(output.text));
	console.log(
		`request ${id}: ${finished.promptTokens} prompt + ${finished.completionTokens} completion tokens, ` +
			`cost ${gnk(finished.cost.toBigInt())}, refund ${gnk(finished.refund.toBigInt())}, ` +
			`executed by ${finished.executor}`,
	);
	await api.disconnect();
}

main().then(
	() => process.exit(0),
	(error) => {
		console.error(`developer.mjs: ${error.message}`);
		process.exit(1);
	},
);
