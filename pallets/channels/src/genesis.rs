//! The genesis (the channels' rules a chain starts with): a pallet section
//! (`#[pallet_section]`), imported into the pallet module in `lib.rs`.

use polkadot_sdk::frame_support::pallet_macros::pallet_section;

/// The genesis configuration and its build.
#[pallet_section]
mod channels_genesis {
	#[pallet::genesis_config]
	#[derive(polkadot_sdk::frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The channels' rules at genesis (the configuration's if none).
		pub params: Option<ParamsOf<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if let Some(params) = self.params {
				assert!(Pallet::<T>::params_allowed(&params), "the genesis rules are allowed");
				Params::<T>::put(params);
			}
		}
	}
}
