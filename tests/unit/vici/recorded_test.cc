// The VICI packets recorded between Debian's swanctl 5.9.8 and charon 5.9.8
// (tests/vectors/vici, made by record.sh there): every packet decodes and is written back byte
// for byte from its fields; its contents are what swanctl printed for it (swanctl --raw output,
// recorded with the packets) and what the commands mean; the recorded streams split at every
// byte boundary give the same packets.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "util/hex.h"
#include "vectors.h"
#include "vici/packet.h"

namespace ikeplex::vici {
namespace {

namespace fs = std::filesystem;

/// The swanctl commands of the recording, as in the file names (NNN-<label>-<kind>.bin).
const std::vector<std::string>& labels() {
    static const std::vector<std::string> kLabels = {
            "version-daemon", "stats",    "load-all", "list-conns", "list-sas-empty",
            "initiate",       "list-sas", "probe",    "terminate"};
    return kLabels;
}

struct Recorded {
    std::string file;   ///< e.g. "004-stats-resp-stats.bin"
    std::string label;  ///< e.g. "stats"
    std::string kind;   ///< e.g. "resp-stats"
    Bytes bytes;
    Packet packet;
    bool from_client{false};
};

/// Every recorded packet in order, decoded (fails the test for one that does not decode).
const std::vector<Recorded>& recorded() {
    static const std::vector<Recorded> kAll = [] {
        std::vector<Recorded> out;
        for (const auto& entry : fs::directory_iterator(test::vector_path("vici/packets"))) {
            Recorded r;
            r.file = entry.path().filename().string();
            r.bytes = test::read_file(entry.path());
            out.push_back(std::move(r));
        }
        std::sort(out.begin(), out.end(),
                  [](const Recorded& a, const Recorded& b) { return a.file < b.file; });
        for (Recorded& r : out) {
            // The longest label that follows "NNN-" ("list-sas-empty" before "list-sas").
            for (const std::string& l : labels()) {
                if (r.file.compare(4, l.size() + 1, l + "-") == 0 && l.size() > r.label.size()) {
                    r.label = l;
                }
            }
            const std::size_t kind_at = 4 + r.label.size() + 1;
            r.kind = r.file.substr(kind_at, r.file.size() - kind_at - 4);
            auto p = decode_packet(r.bytes);
            if (!p) {
                ADD_FAILURE() << r.file << ": " << p.error().to_string();
                continue;
            }
            r.packet = std::move(p).value();
            r.from_client = r.packet.type == PacketType::kCmdRequest ||
                            r.packet.type == PacketType::kEventRegister ||
                            r.packet.type == PacketType::kEventUnregister;
        }
        return out;
    }();
    return kAll;
}

std::vector<const Recorded*> with_label(const std::string& label) {
    std::vector<const Recorded*> out;
    for (const Recorded& r : recorded()) {
        if (r.label == label) {
            out.push_back(&r);
        }
    }
    return out;
}

/// The one packet of `label` whose kind is `kind`.
const Packet& the(const std::string& label, const std::string& kind) {
    static const Packet kNone;
    const Recorded* found = nullptr;
    for (const Recorded* r : with_label(label)) {
        if (r->kind == kind) {
            EXPECT_EQ(found, nullptr) << "more than one " << label << " " << kind;
            found = r;
        }
    }
    EXPECT_NE(found, nullptr) << "no " << label << " " << kind;
    return found == nullptr ? kNone : found->packet;
}

TEST(ViciRecorded, AllThere) {
    const auto& all = recorded();
    EXPECT_EQ(all.size(), 77U);
    std::set<PacketType> types;
    for (const Recorded& r : all) {
        EXPECT_FALSE(r.label.empty()) << r.file;
        types.insert(r.packet.type);
    }
    EXPECT_EQ(types.size(), 8U) << "every packet type is recorded at least once";
}

TEST(ViciRecorded, EveryPacketReEncodesByteForByte) {
    for (const Recorded& r : recorded()) {
        SCOPED_TRACE(r.file);
        auto again = encode_packet(r.packet);
        ASSERT_TRUE(again) << again.error().to_string();
        EXPECT_EQ(to_hex(*again), to_hex(r.bytes));
        // and once more from a copy of the parsed fields, through a frame
        auto frame = encode_frame(Packet(r.packet));
        ASSERT_TRUE(frame);
        EXPECT_EQ(frame->size(), r.bytes.size() + kFrameHeaderLength);
    }
}

TEST(ViciRecorded, FileNamesMatchTheDecodedPackets) {
    const std::map<std::string, PacketType> prefixes = {
            {"req-", PacketType::kCmdRequest},
            {"resp-", PacketType::kCmdResponse},
            {"unknown-cmd-", PacketType::kCmdUnknown},
            {"register-", PacketType::kEventRegister},
            {"unregister-", PacketType::kEventUnregister},
            {"confirm-", PacketType::kEventConfirm},
            {"unknown-event-", PacketType::kEventUnknown},
            {"event-", PacketType::kEvent},
    };
    for (const Recorded& r : recorded()) {
        SCOPED_TRACE(r.file);
        bool matched = false;
        for (const auto& [prefix, type] : prefixes) {
            if (r.kind.rfind(prefix, 0) != 0) {
                continue;
            }
            matched = true;
            EXPECT_EQ(r.packet.type, type);
            if (is_named(type)) {
                EXPECT_EQ(r.packet.name, r.kind.substr(prefix.size()));
            } else {
                EXPECT_TRUE(r.packet.name.empty());
            }
        }
        EXPECT_TRUE(matched) << r.kind;
    }
}

/// The line swanctl --raw printed for a packet charon sent, as swanctl formats it.
std::string swanctl_raw_line(const Packet& p, const std::string& last_request) {
    if (p.type == PacketType::kCmdResponse) {
        return last_request + " reply " + dump(p.message);
    }
    if (p.name == "control-log") {  // initiate / terminate print these as "log"
        return "log " + dump(p.message);
    }
    return p.name + " event " + dump(p.message);
}

TEST(ViciRecorded, ContentsAreWhatSwanctlPrinted) {
    // swanctl's --raw output is its own decoding of the same bytes: each response and event
    // must appear there, rendered from our decoded fields, in the same order.
    std::size_t checked = 0;
    for (const std::string& label : labels()) {
        if (label == "probe") {
            continue;  // not swanctl
        }
        SCOPED_TRACE(label);
        const std::string output = test::read_vector_text("vici/output/" + label + ".txt");
        std::size_t at = 0;
        std::string last_request;
        for (const Recorded* r : with_label(label)) {
            if (r->packet.type == PacketType::kCmdRequest) {
                last_request = r->packet.name;
            }
            if (r->from_client || !has_message(r->packet.type)) {
                continue;
            }
            const std::string line = swanctl_raw_line(r->packet, last_request) + "\n";
            const std::size_t found = output.find(line, at);
            EXPECT_NE(found, std::string::npos) << r->file << ": " << line;
            if (found != std::string::npos) {
                at = found + line.size();
                ++checked;
            }
        }
    }
    // every response and event of the recording: version 1, stats 1, load-all 8, list-conns 2,
    // list-sas-empty 1, initiate 20 + 1, list-sas 2, terminate 7 + 1
    EXPECT_EQ(checked, 44U);
}

TEST(ViciRecorded, VersionAndStats) {
    const Packet& version = the("version-daemon", "resp-version");
    EXPECT_EQ(version.message.get("daemon"), "charon");
    EXPECT_EQ(version.message.get("version"), "5.9.8");
    EXPECT_EQ(version.message.get("sysname"), "Linux");
    EXPECT_TRUE(version.message.get("release") && version.message.get("machine"));
    EXPECT_TRUE(the("version-daemon", "req-version").message.empty());

    const Message& stats = the("stats", "resp-stats").message;
    std::vector<std::string> top;
    for (const Entry& e : stats) {
        top.push_back(entry_name(e));
    }
    EXPECT_EQ(top, (std::vector<std::string>{"uptime", "workers", "queues", "scheduled", "ikesas",
                                             "plugins", "mallinfo"}));
    ASSERT_NE(stats.find_section("uptime"), nullptr);
    EXPECT_TRUE(stats.find_section("uptime")->get("running"));  // "1 second"
    EXPECT_TRUE(stats.find_section("uptime")->get("since"));
    EXPECT_EQ(stats.find_section("workers")->find_section("active")->size(), 4U);
    EXPECT_EQ(stats.find_section("ikesas")->get("total"), "0");
    EXPECT_EQ(stats.find_section("ikesas")->get("half-open"), "0");
    const auto plugins = stats.find_list("plugins")->texts();
    EXPECT_EQ(plugins.front(), "charon");
    EXPECT_NE(std::find(plugins.begin(), plugins.end(), "vici"), plugins.end());
}

TEST(ViciRecorded, LoadAll) {
    std::vector<std::string> commands;
    for (const Recorded* r : with_label("load-all")) {
        if (r->packet.type == PacketType::kCmdRequest) {
            commands.push_back(r->packet.name);
        } else {
            EXPECT_EQ(r->packet.type, PacketType::kCmdResponse) << r->file;
        }
    }
    EXPECT_EQ(commands,
              (std::vector<std::string>{"get-keys", "get-shared", "load-shared", "get-authorities",
                                        "get-pools", "load-pool", "get-conns", "load-conn"}));

    const Message& shared = the("load-all", "req-load-shared").message;
    EXPECT_EQ(shared.get("id"), "ike-t");
    EXPECT_EQ(shared.get("type"), "ike");
    EXPECT_EQ(shared.get("data"), "interop-test-psk-0123456789");
    ASSERT_NE(shared.find_list("owners"), nullptr);
    EXPECT_TRUE(shared.find_list("owners")->items.empty());

    const Message* pool = the("load-all", "req-load-pool").message.find_section("p");
    ASSERT_NE(pool, nullptr);
    EXPECT_EQ(pool->get("addrs"), "10.99.3.0/28");

    const Message& load_conn = the("load-all", "req-load-conn").message;
    ASSERT_EQ(load_conn.size(), 1U);
    const Message* t = load_conn.find_section("t");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->get("version"), "2");
    // swanctl sends comma-list options as lists, even with one element.
    EXPECT_EQ(t->find_list("local_addrs")->texts(), std::vector<std::string_view>{"10.99.0.1"});
    EXPECT_EQ(t->find_list("remote_addrs")->texts(), std::vector<std::string_view>{"10.99.0.2"});
    EXPECT_EQ(t->find_list("proposals")->texts(),
              std::vector<std::string_view>{"aes128-sha256-modp2048"});
    EXPECT_EQ(t->find_section("local")->get("auth"), "psk");
    EXPECT_EQ(t->find_section("local")->get("id"), "a.test");
    EXPECT_EQ(t->find_section("remote")->get("auth"), "psk");
    const Message* net = t->find_section("children")->find_section("net");
    ASSERT_NE(net, nullptr);
    EXPECT_EQ(net->find_list("local_ts")->texts(), std::vector<std::string_view>{"10.99.1.0/24"});
    EXPECT_EQ(net->find_list("esp_proposals")->texts(),
              std::vector<std::string_view>{"aes128gcm16"});
    EXPECT_EQ(net->get("mode"), "tunnel");

    for (const char* kind : {"resp-load-shared", "resp-load-pool", "resp-load-conn"}) {
        EXPECT_EQ(the("load-all", kind).message.get("success"), "yes") << kind;
    }
    EXPECT_TRUE(the("load-all", "resp-get-pools").message.empty());
    EXPECT_TRUE(the("load-all", "resp-get-conns").message.find_list("conns")->items.empty());
    EXPECT_TRUE(the("load-all", "resp-get-keys").message.find_list("keys")->items.empty());
    EXPECT_TRUE(the("load-all", "resp-get-shared").message.find_list("keys")->items.empty());
    EXPECT_TRUE(the("load-all", "resp-get-authorities")
                        .message.find_list("authorities")
                        ->items.empty());
}

TEST(ViciRecorded, ListConns) {
    const Message& event = the("list-conns", "event-list-conn").message;
    const Message* t = event.find_section("t");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->get("version"), "IKEv2");
    EXPECT_EQ(t->find_list("local_addrs")->texts(), std::vector<std::string_view>{"10.99.0.1"});
    EXPECT_EQ(t->get("rekey_time"), "14400");
    EXPECT_EQ(t->find_section("local-1")->get("class"), "pre-shared key");
    EXPECT_EQ(t->find_section("local-1")->get("id"), "a.test");
    EXPECT_EQ(t->find_section("remote-1")->get("class"), "pre-shared key");
    const Message* net = t->find_section("children")->find_section("net");
    ASSERT_NE(net, nullptr);
    EXPECT_EQ(net->get("mode"), "TUNNEL");
    EXPECT_EQ(net->find_list("local-ts")->texts(), std::vector<std::string_view>{"10.99.1.0/24"});
    EXPECT_EQ(net->find_list("remote-ts")->texts(), std::vector<std::string_view>{"10.99.2.0/24"});
    EXPECT_TRUE(the("list-conns", "resp-list-conns").message.empty());
}

TEST(ViciRecorded, ListSas) {
    // Before initiate: no event, an empty response.
    for (const Recorded* r : with_label("list-sas-empty")) {
        EXPECT_NE(r->packet.type, PacketType::kEvent) << r->file;
    }
    const Message& event = the("list-sas", "event-list-sa").message;
    ASSERT_EQ(event.size(), 1U);
    EXPECT_EQ(entry_name(*event.begin()), "t");  // the IKE SA's config name
    const Message* t = event.find_section("t");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->get("uniqueid"), "1");
    EXPECT_EQ(t->get("version"), "2");
    EXPECT_EQ(t->get("state"), "ESTABLISHED");
    EXPECT_EQ(t->get("local-host"), "10.99.0.1");
    EXPECT_EQ(t->get("local-port"), "4500");
    EXPECT_EQ(t->get("local-id"), "a.test");
    EXPECT_EQ(t->get("remote-id"), "b.test");
    EXPECT_EQ(t->get("initiator"), "yes");
    EXPECT_EQ(t->get("initiator-spi")->size(), 16U);
    EXPECT_EQ(t->get("encr-alg"), "AES_CBC");
    EXPECT_EQ(t->get("dh-group"), "MODP_2048");
    // The child is keyed "<name>-<uniqueid>" and carries its name inside.
    const Message* child = t->find_section("child-sas")->find_section("net-1");
    ASSERT_NE(child, nullptr);
    EXPECT_EQ(child->get("name"), "net");
    EXPECT_EQ(child->get("state"), "INSTALLED");
    EXPECT_EQ(child->get("mode"), "TUNNEL");
    EXPECT_EQ(child->get("protocol"), "ESP");
    EXPECT_EQ(child->get("encap"), "yes");
    EXPECT_EQ(child->get("encr-alg"), "AES_GCM_16");
    EXPECT_EQ(child->find_list("local-ts")->texts(), std::vector<std::string_view>{"10.99.1.0/24"});
    EXPECT_TRUE(the("list-sas", "resp-list-sas").message.empty());
}

TEST(ViciRecorded, InitiateAndTerminateStreamControlLog) {
    for (const char* label : {"initiate", "terminate"}) {
        SCOPED_TRACE(label);
        const auto packets = with_label(label);
        ASSERT_GE(packets.size(), 5U);
        EXPECT_EQ(packets[0]->packet.type, PacketType::kEventRegister);
        EXPECT_EQ(packets[0]->packet.name, "control-log");
        EXPECT_EQ(packets[1]->packet.type, PacketType::kEventConfirm);
        EXPECT_EQ(packets[2]->packet.type, PacketType::kCmdRequest);
        EXPECT_EQ(packets[2]->packet.message.get("loglevel"), "1");
        EXPECT_EQ(packets.back()->packet.type, PacketType::kCmdResponse);
        EXPECT_EQ(packets.back()->packet.message.get("success"), "yes");
        for (std::size_t i = 3; i + 1 < packets.size(); ++i) {
            const Packet& p = packets[i]->packet;
            EXPECT_EQ(p.type, PacketType::kEvent);
            EXPECT_EQ(p.name, "control-log");
            std::vector<std::string> keys;
            for (const Entry& e : p.message) {
                keys.push_back(entry_name(e));
            }
            EXPECT_EQ(keys, (std::vector<std::string>{"group", "level", "ikesa-name",
                                                      "ikesa-uniqueid", "msg"}));
            EXPECT_EQ(p.message.get("ikesa-name"), "t");
        }
    }
    EXPECT_EQ(the("initiate", "req-initiate").message.get("child"), "net");
    EXPECT_EQ(the("terminate", "req-terminate").message.get("ike"), "t");
    const Message& done = the("terminate", "resp-terminate").message;
    EXPECT_EQ(done.get("matches"), "1");
    EXPECT_EQ(done.get("terminated"), "1");
    bool established = false;
    for (const Recorded* r : with_label("initiate")) {
        const auto msg = r->packet.message.get("msg");
        established = established || (msg && msg->rfind("IKE_SA t[1] established between", 0) == 0);
    }
    EXPECT_TRUE(established);
}

TEST(ViciRecorded, ProbesOfUnknownNames) {
    EXPECT_EQ(the("probe", "unknown-cmd-no-such-command").type, PacketType::kCmdUnknown);
    EXPECT_EQ(the("probe", "unknown-event-no-such-event").type, PacketType::kEventUnknown);
    EXPECT_EQ(the("probe", "unregister-ike-updown").type, PacketType::kEventUnregister);
}

/// The frames of one direction of one command's connection, back to back.
std::vector<std::pair<Bytes, std::vector<Packet>>> recorded_streams() {
    std::vector<std::pair<Bytes, std::vector<Packet>>> out;
    for (const std::string& label : labels()) {
        for (const bool client : {true, false}) {
            Bytes stream;
            std::vector<Packet> packets;
            for (const Recorded* r : with_label(label)) {
                if (r->from_client != client) {
                    continue;
                }
                Writer w;
                w.write_u32(static_cast<std::uint32_t>(r->bytes.size()));
                w.write_bytes(r->bytes);
                stream.insert(stream.end(), w.view().begin(), w.view().end());
                packets.push_back(r->packet);
            }
            out.emplace_back(std::move(stream), std::move(packets));
        }
    }
    return out;
}

TEST(ViciRecorded, StreamsSplitAtEveryByteBoundary) {
    std::size_t streams = 0;
    for (const auto& [stream, packets] : recorded_streams()) {
        for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
            FrameReader reader;
            std::vector<Packet> got;
            for (const ByteView part :
                 {ByteView(stream).first(cut), ByteView(stream).subspan(cut)}) {
                reader.feed(part);
                for (;;) {
                    auto p = reader.next();
                    ASSERT_TRUE(p) << p.error().to_string();
                    if (!*p) {
                        break;
                    }
                    got.push_back(std::move(**p));
                }
            }
            ASSERT_EQ(got, packets) << "cut at " << cut;
        }
        ++streams;
    }
    EXPECT_EQ(streams, 2 * labels().size());
}

TEST(ViciRecorded, MutationsNeverCrash) {
    // Each byte flipped and each truncation: decode either fails cleanly or re-encodes to the
    // mutated bytes exactly (the encoding is canonical).
    for (const Recorded& r : recorded()) {
        for (std::size_t i = 0; i < r.bytes.size(); ++i) {
            Bytes m = r.bytes;
            m[i] ^= 0xffU;
            for (const ByteView v : {ByteView(m), ByteView(r.bytes).first(i)}) {
                auto p = decode_packet(v);
                if (p) {
                    auto again = encode_packet(*p);
                    ASSERT_TRUE(again) << r.file << " at " << i;
                    ASSERT_EQ(to_hex(*again), to_hex(v)) << r.file << " at " << i;
                }
            }
        }
    }
}

}  // namespace
}  // namespace ikeplex::vici
