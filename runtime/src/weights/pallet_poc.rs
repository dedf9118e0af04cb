// BOOTSTRAP ONLY, replaced by `scripts/benchmarks.sh` before any commit.
use core::marker::PhantomData;
use polkadot_sdk::frame_support::weights::Weight;
pub struct WeightInfo<T>(PhantomData<T>);
impl<T: polkadot_sdk::frame_system::Config> pallet_poc::WeightInfo for WeightInfo<T> {
	fn register_host() -> Weight {
		Weight::zero()
	}
	fn update_host() -> Weight {
		Weight::zero()
	}
	fn leave() -> Weight {
		Weight::zero()
	}
	fn set_epoch_params() -> Weight {
		Weight::zero()
	}
	fn commit_poc() -> Weight {
		Weight::zero()
	}
	fn authorize_commit_poc() -> Weight {
		Weight::zero()
	}
	fn submit_poc_validations(_n: u32) -> Weight {
		Weight::zero()
	}
	fn authorize_submit_poc_validations(_n: u32) -> Weight {
		Weight::zero()
	}
	fn form_weights(_n: u32) -> Weight {
		Weight::zero()
	}
	fn prune_epoch(_n: u32) -> Weight {
		Weight::zero()
	}
	fn on_initialize_epoch_start() -> Weight {
		Weight::zero()
	}
	fn open_validation(_n: u32) -> Weight {
		Weight::zero()
	}
	fn on_initialize_idle() -> Weight {
		Weight::zero()
	}
}
