//! The example configuration shipped in deploy/ must parse.

use std::path::Path;

use ward_agent::config::Config;

#[test]
fn example_agent_config_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/config/agent.toml");
    let config = Config::load(&path).unwrap();
    assert_eq!(config.state_dir, Path::new("/var/lib/ward-agent"));
    assert_eq!(config.inventory_interval.as_secs(), 3600);
    // The example states the defaults.
    assert_eq!(
        config.posture,
        ward_agent::config::Posture::default(),
        "deploy/config/agent.toml [posture]"
    );
}
