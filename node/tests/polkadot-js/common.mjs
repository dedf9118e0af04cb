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
				if (dispatchError.isModule) {
					const { section, name, docs } = api.registry.findMetaError(dispatchError.asModule);
					reject(new Error(`${section}.${name}: ${docs.join(' ')}`));
				} else {
					reject(new Error(dispatchError.toString()));
				}
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
