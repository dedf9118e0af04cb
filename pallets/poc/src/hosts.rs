//! The host registry's rules (`protocol.md`, "Roles"): what a host's endpoint and model list
//! must be, and that a worker key serves one host only. Registering, updating and leaving
//! are in `dispatchable_impls.rs`; the genesis hosts in `genesis.rs`.

use crate::{Config, Error, HostOf, ModelRegistry, Pallet, WorkerKeys};
use alloc::vec::Vec;
use gonka_primitives::ModelId;
use polkadot_sdk::{frame_support::pallet_prelude::*, sp_core::sr25519};

impl<T: Config> Pallet<T> {
	/// The endpoint as stored: at most `MaxEndpointLength` bytes (`EndpointTooLong`), an
	/// `http://` or `https://` URL with an address, of visible ASCII only
	/// (`InvalidEndpoint`).
	pub(crate) fn checked_endpoint(
		endpoint: Vec<u8>,
	) -> Result<BoundedVec<u8, T::MaxEndpointLength>, DispatchError> {
		let endpoint: BoundedVec<u8, T::MaxEndpointLength> =
			endpoint.try_into().map_err(|_| Error::<T>::EndpointTooLong)?;
		let address = endpoint
			.strip_prefix(b"https://".as_slice())
			.or_else(|| endpoint.strip_prefix(b"http://".as_slice()));
		ensure!(
			matches!(address, Some(address) if !address.is_empty())
				&& endpoint.iter().all(u8::is_ascii_graphic),
			Error::<T>::InvalidEndpoint
		);
		Ok(endpoint)
	}

	/// The model list as stored: at least one model (`NoModels`), at most
	/// `MaxModelsPerHost` (`TooManyModels`), no duplicate (`DuplicateModel`), and, when
	/// `approved`, each approved by the registry (`UnknownModel`).
	pub(crate) fn checked_models(
		models: Vec<ModelId>,
		approved: bool,
	) -> Result<BoundedVec<ModelId, T::MaxModelsPerHost>, DispatchError> {
		ensure!(!models.is_empty(), Error::<T>::NoModels);
		let models: BoundedVec<ModelId, T::MaxModelsPerHost> =
			models.try_into().map_err(|_| Error::<T>::TooManyModels)?;
		for (i, model) in models.iter().enumerate() {
			ensure!(!models[..i].contains(model), Error::<T>::DuplicateModel);
			ensure!(!approved || T::Models::is_approved(*model), Error::<T>::UnknownModel);
		}
		Ok(models)
	}

	/// The worker key's proof that `who` holds it on this chain (`register_host`,
	/// `update_host`): without it anyone could register a key its owner published, and
	/// lock the owner out (`WorkerKeyInUse`).
	pub(crate) fn check_key_proof(
		who: &T::AccountId,
		worker_key: &sr25519::Public,
		proof: &sr25519::Signature,
	) -> DispatchResult {
		let genesis = Self::genesis_hash();
		ensure!(
			gonka_primitives::duty::verify_key_ownership(&genesis, who, worker_key, proof),
			Error::<T>::BadKeyProof
		);
		Ok(())
	}

	/// Gives `who`'s `host` the worker key `worker_key` and moves the key index to it; the
	/// key must not serve another host (`WorkerKeyInUse`). Keeping the same key is no change.
	pub(crate) fn change_worker_key(
		who: &T::AccountId,
		host: &mut HostOf<T>,
		worker_key: sr25519::Public,
	) -> DispatchResult {
		if worker_key != host.worker_key {
			ensure!(!WorkerKeys::<T>::contains_key(worker_key), Error::<T>::WorkerKeyInUse);
			WorkerKeys::<T>::remove(host.worker_key);
			WorkerKeys::<T>::insert(worker_key, who);
			host.worker_key = worker_key;
		}
		Ok(())
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl<T: Config> Pallet<T> {
	/// Registers `who` serving `models` with `worker_key` and an endpoint, holding the
	/// deposit (benchmarks of pallets that need hosts).
	pub fn register_for_benchmark(
		who: &T::AccountId,
		worker_key: sr25519::Public,
		models: Vec<ModelId>,
	) -> DispatchResult {
		Self::do_register(who, worker_key, b"http://bench.local:8080".to_vec(), models, true)
	}
}
