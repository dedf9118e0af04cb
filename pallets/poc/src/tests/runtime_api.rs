//! What `PocApi` returns.

use super::*;

#[test]
fn the_api_shows_the_next_blocks_phase_and_hosts_with_their_power() {
	ExtBuilder::default().hosts(&[1]).build_and_execute(|| {
		// Block 5 is the last of generation: a duty sent now lands in block 6, the delay.
		run_to_block(5);
		let (epoch, phase) = Poc::epoch_and_next_phase().unwrap();
		assert_eq!((epoch.index, phase), (0, Phase::ValidationDelay));
		let view = Poc::host_view(&account(1)).unwrap();
		assert_eq!(view.worker_key, worker(1).public());
		assert_eq!(view.endpoint, endpoint(1));
		assert_eq!(view.models, vec![1, 2]);
		assert_eq!(view.voting_power, 1);
		assert_eq!(Poc::host_view(&account(2)), None);
	});
}
