//! The example configuration shipped in deploy/ must parse.

use std::path::Path;

use ward_collector::config::Config;

#[test]
fn example_collector_config_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/config/collector.toml");
    let config = Config::load(&path).unwrap();
    assert_eq!(config.listen.port(), 7443);
    assert_eq!(config.server_names, vec!["ward.example.org".to_string()]);
}
