# The strongSwan settings syntax (src/config): parser, includes, references, real files.
ikeplex_add_gtest(config_test LABEL unit SOURCES
    unit/config/daemon_metrics_settings_test.cc
    unit/config/daemon_settings_test.cc
    unit/config/legacy_policy_test.cc
    unit/config/redirect_settings_test.cc
    unit/config/settings_errors_test.cc
    unit/config/settings_files_test.cc
    unit/config/settings_include_test.cc
    unit/config/settings_property_test.cc
    unit/config/settings_syntax_test.cc
    unit/config/swanctl_certs_test.cc
    unit/config/swanctl_crls_test.cc
    unit/config/swanctl_eap_test.cc
    unit/config/swanctl_messages_test.cc
    unit/config/swanctl_pools_test.cc
    unit/config/swanctl_keys_test.cc
    unit/config/swanctl_ppk_test.cc
    unit/config/swanctl_test.cc
)
target_link_libraries(config_test PRIVATE ikeplex_config)
