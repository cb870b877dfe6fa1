// Reloading connections while IKE SAs use them: each IKE SA keeps the configuration it was
// made with (shared, immutable) and nothing else does, so replaced configurations are freed
// once no SA uses them; Child SAs of an existing IKE SA use the newest child config.
#include <memory>

#include "flow_fixture.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;

class Reload : public FlowTest {};

TEST_P(Reload, ReplacedConfigurationsLiveExactlyAsLongAsTheirSas) {
    load_psk();
    // Loaded but unused: a reload frees it at once.
    std::weak_ptr<const ike::PeerConfig> unused = ini().manager.configs().items().front();
    ini().manager.load({ini_cfg()});
    EXPECT_TRUE(unused.expired());

    initiate();
    ASSERT_TRUE(up());
    std::weak_ptr<const ike::PeerConfig> in_use = ini().manager.configs().items().front();
    EXPECT_EQ(only_sa(ini()).config_ptr(), in_use.lock());
    for (int i = 0; i < 20; ++i) {  // reload after reload: one old object, not twenty
        ini().manager.load({ini_cfg()});
    }
    EXPECT_FALSE(in_use.expired()) << "the IKE SA's configuration was freed under it";
    EXPECT_NE(ini().manager.configs().items().front(), in_use.lock());

    // A new Child SA on the existing IKE SA comes from the newest load, which the IKE SA then
    // keeps alive too.
    std::weak_ptr<const ike::PeerConfig> newest = ini().manager.configs().items().front();
    initiate();  // "conn"/"net" again: a second Child SA on the same IKE SA
    settle();
    EXPECT_EQ(ini().count(EventKind::kChildUp), 2U);
    ini().manager.load({ini_cfg()});
    EXPECT_FALSE(newest.expired());
    expect_consistent();

    // Once the IKE SA is gone, so are the configurations it held.
    h.act(ini(),
          [&](ike::Step& s) { ASSERT_TRUE(ini().manager.terminate_ike(only_sa(ini()).id(), s)); });
    settle();
    EXPECT_TRUE(ini().manager.sas().empty());
    EXPECT_TRUE(in_use.expired());
    EXPECT_TRUE(newest.expired());
}

INSTANTIATE_TEST_SUITE_P(Roles, Reload, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
