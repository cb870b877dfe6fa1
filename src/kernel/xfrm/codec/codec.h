// The XFRM messages ikeplex sends and receives (include/uapi/linux/xfrm.h), as plain data: build
// functions turn a description into a netlink::Request, parse functions turn the payload of a
// kernel message (after nlmsghdr) into a description, checking every length. No I/O here.
//
// Layout facts used: xfrm_address_t is 16 bytes (IPv4 in the first 4); ports in xfrm_selector
// and xfrm_encap_tmpl are big-endian; XFRM_INF (all ones) means "no limit" in xfrm_lifetime_cfg;
// algorithms travel as struct xfrm_algo / xfrm_algo_auth / xfrm_algo_aead (name[64], key length
// in bits, then the key). ESN SAs carry XFRMA_REPLAY_ESN_VAL (struct xfrm_replay_state_esn with
// bmp_len = window / 32 words) and flag XFRM_STATE_ESN; others use the replay_window field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netlink/message.h"
#include "util/ip_address.h"
#include "util/secret_bytes.h"
#include "util/strong_id.h"

namespace ikeplex::kernel::xfrm {

/// struct xfrm_selector. An unset address (family from the other one) is the zero address.
struct Selector {
    IpAddress src;
    IpAddress dst;
    std::uint8_t src_len{0};  ///< prefix length
    std::uint8_t dst_len{0};
    std::uint8_t proto{0};  ///< 0 = any
    /// Ports (host order) with their masks: mask 0 = any port, 0xffff = exactly that port. For
    /// ICMP the kernel keeps type in sport and code in dport.
    std::uint16_t sport{0};
    std::uint16_t sport_mask{0};
    std::uint16_t dport{0};
    std::uint16_t dport_mask{0};
    std::uint16_t family{0};  ///< AF_INET / AF_INET6; 0 = from the addresses
    bool operator==(const Selector&) const = default;
};

enum class XfrmMode : std::uint8_t { kTransport = 0, kTunnel = 1 };  // XFRM_MODE_*

/// One algorithm with its key: `name` as the kernel's crypto API knows it ("rfc4106(gcm(aes))",
/// "cbc(aes)", "hmac(sha256)"); icv_bits is the AEAD ICV or truncated integrity length.
struct Algorithm {
    std::string name;
    std::uint32_t icv_bits{0};
    SecretBytes key;
};

/// struct xfrm_lifetime_cfg; 0 here means no limit (XFRM_INF on the wire).
struct Lifetime {
    std::uint64_t soft_bytes{0};
    std::uint64_t hard_bytes{0};
    std::uint64_t soft_packets{0};
    std::uint64_t hard_packets{0};
    std::uint64_t soft_add_seconds{0};
    std::uint64_t hard_add_seconds{0};
};

/// UDP encapsulation (RFC 3948): XFRMA_ENCAP with UDP_ENCAP_ESPINUDP.
struct Encap {
    std::uint16_t sport{0};
    std::uint16_t dport{0};
    IpAddress original;  ///< encap_oa (unset: zero)
    bool operator==(const Encap&) const = default;
};

/// The anti-replay state of an installed SA (XFRMA_REPLAY_VAL, struct xfrm_replay_state, or
/// XFRMA_REPLAY_ESN_VAL's counters and bitmap): read with GETSA, carried over to a re-added SA
/// (MOBIKE moves an SA to new addresses by delete and add, keeping its sequence numbers).
struct ReplayState {
    std::uint64_t oseq{0};  ///< the last sequence number sent (ESN: with oseq_hi above)
    std::uint64_t seq{0};   ///< the highest received
    std::vector<std::uint32_t> bitmap;
    bool operator==(const ReplayState&) const = default;
};

/// struct xfrm_lifetime_cur: what an SA has used (XFRMA_LTIME_VAL).
struct LifetimeUsed {
    std::uint64_t bytes{0};
    std::uint64_t packets{0};
    std::uint64_t add_time{0};
    std::uint64_t use_time{0};
    bool operator==(const LifetimeUsed&) const = default;
};

/// An SA to install (NEWSA / UPDSA).
struct SaSpec {
    IpAddress src;
    IpAddress dst;
    Spi spi;
    std::uint8_t proto{50};  ///< IPPROTO_ESP
    XfrmMode mode{XfrmMode::kTunnel};
    std::uint32_t reqid{0};
    /// For transport mode the SA's selector; tunnel-mode SAs leave it empty (family only).
    Selector selector;
    std::uint32_t replay_window{0};
    bool esn{false};
    /// Either aead, or encryption plus (optionally) integrity.
    std::optional<Algorithm> aead;
    std::optional<Algorithm> encryption;
    std::optional<Algorithm> integrity;
    std::optional<Encap> encap;
    Lifetime lifetime;
    /// XFRMA_SA_PCPU. In NEWSA / UPDSA the kernel takes it only together with `direction`
    /// (EINVAL "SA_PCPU only supported with SA_DIR").
    std::optional<std::uint32_t> pcpu;
    /// XFRMA_SA_DIR (kXfrmSaDirIn / Out). With Out the SA carries no replay window (the kernel
    /// refuses one), whatever replay_window says.
    std::optional<std::uint8_t> direction;
    std::uint32_t seq{0};  ///< xfrm_usersa_info.seq: an acquire's sequence number, or 0
    /// Extra XFRM_STATE_* flags (XFRM_STATE_ESN is set from `esn`). XFRM_STATE_AF_UNSPEC with
    /// an empty selector sends selector family 0: a tunnel-mode SA for inner packets of
    /// either family.
    std::uint8_t flags{0};
    /// Carried over from an SA being replaced (NEWSA only): XFRMA_REPLAY_VAL (or the counters
    /// and bitmap of XFRMA_REPLAY_ESN_VAL) and XFRMA_LTIME_VAL. With XFRMA_SA_DIR the kernel
    /// wants only oseq on an outbound SA and only seq and the bitmap on an inbound one; the
    /// builder sends just those.
    std::optional<ReplayState> replay;
    std::optional<LifetimeUsed> used;
};

/// XFRM_MSG_NEWSA (update = false) or XFRM_MSG_UPDSA (update = true).
netlink::Request build_new_sa(const SaSpec& sa, bool update);
/// struct xfrm_usersa_id: XFRM_MSG_DELSA / XFRM_MSG_GETSA for one SA.
netlink::Request build_del_sa(const IpAddress& dst, Spi spi, std::uint8_t proto = 50);
netlink::Request build_get_sa(const IpAddress& dst, Spi spi, std::uint8_t proto = 50);
/// XFRM_MSG_GETSA with NLM_F_DUMP (every SA).
netlink::Request build_dump_sa();
/// XFRM_MSG_ALLOCSPI: a larval SA src -> dst with an SPI in [min, max], optionally bound to a
/// CPU (XFRMA_SA_PCPU).
/// `direction` (XFRMA_SA_DIR): a larval state must have the direction of the SA that will
/// update it (xfrm_state_update refuses a different one).
netlink::Request build_alloc_spi(const IpAddress& src, const IpAddress& dst, std::uint32_t min,
                                 std::uint32_t max, std::uint32_t reqid = 0,
                                 std::optional<std::uint32_t> pcpu = std::nullopt,
                                 std::uint8_t proto = 50,
                                 std::optional<std::uint8_t> direction = std::nullopt);

enum class Dir : std::uint8_t { kIn = 0, kOut = 1, kFwd = 2 };  // XFRM_POLICY_IN/OUT/FWD

/// struct xfrm_user_tmpl (one per policy here: ESP).
struct Template {
    IpAddress src;  ///< tunnel endpoints (tunnel mode); unset in transport mode
    IpAddress dst;
    Spi spi;  ///< 0 = any SA with the reqid (always 0 for per-CPU groups)
    std::uint8_t proto{50};
    XfrmMode mode{XfrmMode::kTunnel};
    std::uint32_t reqid{0};
    bool optional{false};  ///< xfrm_user_tmpl.optional (IPComp); never for ESP
    bool operator==(const Template&) const = default;
};

/// A policy (NEWPOLICY / UPDPOLICY, and what a dump returns).
struct PolicySpec {
    Selector selector;
    /// In dumps also 3..5: a per-socket policy (XFRM_POLICY_MAX + direction).
    Dir dir{Dir::kOut};
    std::uint32_t priority{0};
    std::uint32_t index{0};  ///< the kernel's; 0 when installing
    std::uint8_t action{0};  ///< XFRM_POLICY_ALLOW 0 / BLOCK 1
    std::uint8_t flags{0};   ///< XFRM_POLICY_LOCALOK, kXfrmPolicyCpuAcquire, ...
    std::vector<Template> templates;
    bool operator==(const PolicySpec&) const = default;
};

/// XFRM_MSG_NEWPOLICY (update = false) or XFRM_MSG_UPDPOLICY (update = true).
netlink::Request build_new_policy(const PolicySpec& p, bool update);
/// XFRM_MSG_DELPOLICY by selector and direction (struct xfrm_userpolicy_id).
netlink::Request build_del_policy(const Selector& sel, Dir dir);
/// XFRM_MSG_GETPOLICY with NLM_F_DUMP.
netlink::Request build_dump_policy();

/// Current counters of an SA (xfrm_lifetime_cur, xfrm_stats).
struct SaCounters {
    std::uint64_t bytes{0};
    std::uint64_t packets{0};
    std::uint64_t add_time{0};       ///< unix seconds
    std::uint64_t use_time{0};       ///< unix seconds, 0 = never used
    std::uint32_t replay_window{0};  ///< xfrm_stats.replay_window: packets outside the window
    std::uint32_t replay{0};         ///< xfrm_stats.replay: packets refused by the window
    std::uint32_t integrity_failed{0};
};

/// An SA as the kernel describes it (NEWSA/UPDSA notifications, GETSA answers, ALLOCSPI's
/// answer, the SA inside EXPIRE).
struct SaInfo {
    IpAddress src;
    IpAddress dst;
    Spi spi;
    std::uint8_t proto{0};
    XfrmMode mode{XfrmMode::kTransport};
    std::uint32_t reqid{0};
    std::uint32_t seq{0};
    std::uint8_t flags{0};  ///< XFRM_STATE_* (XFRM_STATE_ESN for ESN SAs)
    /// The anti-replay window: XFRMA_REPLAY_ESN_VAL's when present, else the u8 field.
    std::uint32_t replay_window{0};
    Selector selector;  ///< family 0: a tunnel-mode SA for both inner families
    SaCounters counters;
    std::optional<Encap> encap;
    std::optional<std::uint32_t> pcpu;
    std::optional<std::uint8_t> direction;
    std::optional<ReplayState> replay;  ///< XFRMA_REPLAY_VAL or XFRMA_REPLAY_ESN_VAL, if sent
};
/// Payload of XFRM_MSG_NEWSA / UPDSA: struct xfrm_usersa_info then attributes.
Result<SaInfo> parse_sa(ByteView payload);
/// Payload of XFRM_MSG_DELSA notifications: struct xfrm_usersa_id (+ XFRMA_SA attribute).
struct SaId {
    IpAddress dst;
    Spi spi;
    std::uint8_t proto{0};
};
Result<SaId> parse_sa_id(ByteView payload);

/// XFRM_MSG_ACQUIRE: struct xfrm_user_acquire, XFRMA_TMPL, XFRMA_SA_PCPU.
struct AcquireMsg {
    IpAddress src;  ///< saddr: our outer address
    IpAddress dst;  ///< id.daddr: the peer's
    std::uint8_t proto{0};
    Selector selector;  ///< the packet's (hosts and ports) that triggered it
    std::uint32_t policy_index{0};
    Dir policy_dir{Dir::kOut};
    std::uint32_t reqid{0};  ///< from the first template
    std::uint32_t seq{0};
    std::optional<std::uint32_t> pcpu;
};
Result<AcquireMsg> parse_acquire(ByteView payload);

/// XFRM_MSG_EXPIRE: struct xfrm_user_expire {state, hard}.
struct ExpireMsg {
    SaInfo sa;
    bool hard{false};
};
Result<ExpireMsg> parse_expire(ByteView payload);

/// XFRM_MSG_MAPPING: the peer's NAT mapping of a UDP-encapsulated SA changed.
struct MappingMsg {
    IpAddress dst;
    Spi spi;
    std::uint8_t proto{0};
    std::uint32_t reqid{0};
    IpAddress old_src;
    std::uint16_t old_sport{0};
    IpAddress new_src;
    std::uint16_t new_sport{0};
};
Result<MappingMsg> parse_mapping(ByteView payload);

/// Payload of XFRM_MSG_NEWPOLICY / UPDPOLICY (dumps, notifications): xfrm_userpolicy_info,
/// XFRMA_TMPL.
Result<PolicySpec> parse_policy(ByteView payload);

/// The kernel's name for an IKEv2 transform, or nullopt when the kernel has none:
/// encryption (ENCR_AES_CBC 12 -> "cbc(aes)", ENCR_AES_GCM_16 20 -> "rfc4106(gcm(aes))",
/// ENCR_CHACHA20_POLY1305 28 -> "rfc7539esp(chacha20,poly1305)", ...) and integrity
/// (AUTH_HMAC_SHA2_256_128 12 -> "hmac(sha256)", ...), with the ICV length in bits.
struct KernelAlg {
    const char* name{""};
    std::uint32_t icv_bits{0};
    bool aead{false};
};
std::optional<KernelAlg> encryption_alg(std::uint16_t ikev2_id);
std::optional<KernelAlg> integrity_alg(std::uint16_t ikev2_id);

/// Human-readable name of an XFRM message type ("NEWSA", "ACQUIRE", ...), for logs.
const char* message_name(std::uint16_t type) noexcept;

}  // namespace ikeplex::kernel::xfrm
