#include "ike/proposal.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "crypto/algorithm_ids.h"
#include "wire/names.h"
#include "wire/notify_codes.h"

namespace ikeplex::ike {
namespace {

using wire::Proposal;
using wire::Transform;
using wire::TransformType;
namespace encr = crypto::encr;
namespace prf = crypto::prf;
namespace integ = crypto::integ;
namespace ke = crypto::ke;
namespace esn = crypto::esn;

struct Keyword {
    std::string_view word;
    TransformType type;
    std::uint16_t id;
    std::uint16_t key_bits;  // 0 = no Key Length attribute
};

// strongSwan's keywords (swanctl.conf proposals), the subset ikeplex implements.
constexpr Keyword kKeywords[] = {
        {"aes128", TransformType::kEncr, encr::kAesCbc, 128},
        {"aes192", TransformType::kEncr, encr::kAesCbc, 192},
        {"aes256", TransformType::kEncr, encr::kAesCbc, 256},
        {"aes128gcm16", TransformType::kEncr, encr::kAesGcm16, 128},
        {"aes192gcm16", TransformType::kEncr, encr::kAesGcm16, 192},
        {"aes256gcm16", TransformType::kEncr, encr::kAesGcm16, 256},
        {"aes128gcm128", TransformType::kEncr, encr::kAesGcm16, 128},
        {"aes192gcm128", TransformType::kEncr, encr::kAesGcm16, 192},
        {"aes256gcm128", TransformType::kEncr, encr::kAesGcm16, 256},
        {"aes128gcm", TransformType::kEncr, encr::kAesGcm16, 128},
        {"aes192gcm", TransformType::kEncr, encr::kAesGcm16, 192},
        {"aes256gcm", TransformType::kEncr, encr::kAesGcm16, 256},
        {"chacha20poly1305", TransformType::kEncr, encr::kChacha20Poly1305, 0},
        {"3des", TransformType::kEncr, encr::k3des, 0},
        {"sha1", TransformType::kInteg, integ::kHmacSha1_96, 0},
        {"sha", TransformType::kInteg, integ::kHmacSha1_96, 0},
        {"prfsha1", TransformType::kPrf, prf::kHmacSha1, 0},
        {"modp1024", TransformType::kKe, ke::kModp1024, 0},
        {"modp1536", TransformType::kKe, ke::kModp1536, 0},
        {"sha256", TransformType::kInteg, integ::kHmacSha2_256_128, 0},
        {"sha2_256", TransformType::kInteg, integ::kHmacSha2_256_128, 0},
        {"sha384", TransformType::kInteg, integ::kHmacSha2_384_192, 0},
        {"sha2_384", TransformType::kInteg, integ::kHmacSha2_384_192, 0},
        {"sha512", TransformType::kInteg, integ::kHmacSha2_512_256, 0},
        {"sha2_512", TransformType::kInteg, integ::kHmacSha2_512_256, 0},
        {"prfsha256", TransformType::kPrf, prf::kHmacSha2_256, 0},
        {"prfsha384", TransformType::kPrf, prf::kHmacSha2_384, 0},
        {"prfsha512", TransformType::kPrf, prf::kHmacSha2_512, 0},
        {"modp2048", TransformType::kKe, ke::kModp2048, 0},
        {"modp3072", TransformType::kKe, ke::kModp3072, 0},
        {"modp4096", TransformType::kKe, ke::kModp4096, 0},
        {"ecp256", TransformType::kKe, ke::kEcp256, 0},
        {"ecp384", TransformType::kKe, ke::kEcp384, 0},
        {"ecp521", TransformType::kKe, ke::kEcp521, 0},
        {"x25519", TransformType::kKe, ke::kCurve25519, 0},
        {"curve25519", TransformType::kKe, ke::kCurve25519, 0},
        {"x448", TransformType::kKe, ke::kCurve448, 0},
        {"curve448", TransformType::kKe, ke::kCurve448, 0},
        {"mlkem512", TransformType::kKe, ke::kMlKem512, 0},
        {"mlkem768", TransformType::kKe, ke::kMlKem768, 0},
        {"mlkem1024", TransformType::kKe, ke::kMlKem1024, 0},
        {"esn", TransformType::kEsn, esn::kEsn, 0},
        {"noesn", TransformType::kEsn, esn::kNoEsn, 0},
};

/// Whether t is a key exchange transform type: 4, or RFC 9370's ADDITIONAL_KEY_EXCHANGE_1..7
/// (6..12).
bool is_ke_type(TransformType t) {
    return t == TransformType::kKe || (t >= TransformType::kAddKe1 && t <= TransformType::kAddKe7);
}

bool is_additional_ke(TransformType t) {
    return t >= TransformType::kAddKe1 && t <= TransformType::kAddKe7;
}

/// strongSwan's "keN_<method>" (N = 1..7) and "keN_none": the keyword of an additional key
/// exchange (RFC 9370 transform type 5 + N); nullopt if `word` is not of that form.
std::optional<Keyword> additional_ke_keyword(std::string_view word) {
    if (word.size() < 5 || word.substr(0, 2) != "ke" || word[2] < '1' || word[2] > '7' ||
        word[3] != '_') {
        return std::nullopt;
    }
    const auto type =
            static_cast<TransformType>(static_cast<int>(TransformType::kAddKe1) + (word[2] - '1'));
    const std::string_view method = word.substr(4);
    if (method == "none") {
        return Keyword{word, type, ke::kNone, 0};
    }
    const auto it = std::find_if(std::begin(kKeywords), std::end(kKeywords), [&](const Keyword& k) {
        return k.type == TransformType::kKe && k.word == method;
    });
    if (it == std::end(kKeywords)) {
        return std::nullopt;
    }
    return Keyword{word, type, it->id, 0};
}

std::optional<Keyword> keyword(std::string_view word) {
    const auto it = std::find_if(std::begin(kKeywords), std::end(kKeywords),
                                 [&](const Keyword& k) { return k.word == word; });
    if (it != std::end(kKeywords)) {
        return *it;
    }
    return additional_ke_keyword(word);
}

Transform transform(TransformType t, std::uint16_t id, std::uint16_t bits) {
    Transform x{t, id, {}};
    if (bits != 0) {
        x.attributes.push_back({wire::kAttrKeyLength, true, bits, {}});
    }
    return x;
}

bool has_type(const Proposal& p, TransformType t) {
    return std::any_of(p.transforms.begin(), p.transforms.end(),
                       [t](const Transform& x) { return x.type == t; });
}

bool is_aead(std::uint16_t encr_id) {
    return encr_id == encr::kAesGcm16 || encr_id == encr::kChacha20Poly1305 ||
           encr_id == encr::kAesGcm8 || encr_id == encr::kAesGcm12 || encr_id == encr::kAesCcm8 ||
           encr_id == encr::kAesCcm12 || encr_id == encr::kAesCcm16;
}

/// A configuration error: the static `detail` for the Error, and in `why` (if asked for) the
/// message that names the proposal and what is wrong with it.
Error bad(std::string* why, const char* detail, std::string text) {
    if (why != nullptr) {
        *why = std::move(text);
    }
    return make_error(Errc::kConfig, detail);
}

/// The transform types a proposal of its protocol must have.
Status check_complete(const Proposal& p, bool aead, std::string_view text, std::string* why) {
    const bool ike = p.protocol == wire::ProtocolId::kIke;
    if (ike && !has_type(p, TransformType::kPrf)) {
        return bad(why, "proposal: no PRF in an IKE proposal",
                   fmt::format("'{}' has no PRF (an IKE proposal needs one)", text));
    }
    if (!aead && !has_type(p, TransformType::kInteg)) {
        return bad(why, "proposal: no integrity algorithm",
                   fmt::format("'{}' has no integrity algorithm (needed without an AEAD cipher)",
                               text));
    }
    if (ike && !has_type(p, TransformType::kKe)) {
        return bad(
                why, "proposal: no key exchange method in an IKE proposal",
                fmt::format("'{}' has no key exchange method (an IKE proposal needs one)", text));
    }
    return ok();
}

Result<Proposal> parse_one(std::string_view text, wire::ProtocolId protocol, std::uint8_t number,
                           std::string* why) {
    Proposal p{number, protocol, {}, {}};
    std::vector<std::uint16_t> integs;
    bool aead = false;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto dash = text.find('-', pos);
        const std::string_view word =
                text.substr(pos, dash == std::string_view::npos ? text.npos : dash - pos);
        pos = dash == std::string_view::npos ? text.size() + 1 : dash + 1;
        const auto it = keyword(word);
        if (!it) {
            return bad(why, "proposal: unknown algorithm keyword",
                       word.empty()
                               ? fmt::format("'{}' has an empty algorithm", text)
                               : fmt::format("'{}' has an unknown algorithm '{}'", text, word));
        }
        if (it->type == TransformType::kEncr) {
            aead = aead || is_aead(it->id);
        }
        if (it->type == TransformType::kInteg) {
            integs.push_back(it->id);
            continue;  // placed after ENCR once we know whether the cipher is an AEAD
        }
        if (protocol == wire::ProtocolId::kEsp && it->type == TransformType::kPrf) {
            return bad(why, "proposal: a PRF in an ESP proposal",
                       fmt::format("'{}' names a PRF ('{}'), which ESP proposals have not", text,
                                   word));
        }
        p.transforms.push_back(transform(it->type, it->id, it->key_bits));
    }
    if (!has_type(p, TransformType::kEncr)) {
        return bad(why, "proposal: no encryption algorithm",
                   fmt::format("'{}' has no encryption algorithm", text));
    }
    for (std::uint16_t i : integs) {
        if (protocol == wire::ProtocolId::kIke) {
            // strongSwan: an integrity keyword also names the PRF when none is given; with an
            // AEAD it only names the PRF.
            const std::uint16_t prf_id = i == integ::kHmacSha2_256_128   ? prf::kHmacSha2_256
                                         : i == integ::kHmacSha2_384_192 ? prf::kHmacSha2_384
                                         : i == integ::kHmacSha1_96      ? prf::kHmacSha1
                                                                         : prf::kHmacSha2_512;
            if (!aead) {
                p.transforms.push_back(transform(TransformType::kInteg, i, 0));
            }
            if (!has_type(p, TransformType::kPrf) || aead) {
                p.transforms.push_back(transform(TransformType::kPrf, prf_id, 0));
            }
        } else if (!aead) {
            p.transforms.push_back(transform(TransformType::kInteg, i, 0));
        }
    }
    IKEPLEX_TRY(check_complete(p, aead, text, why));
    if (protocol == wire::ProtocolId::kEsp && !has_type(p, TransformType::kEsn)) {
        p.transforms.push_back(transform(TransformType::kEsn, esn::kNoEsn, 0));
    }
    // Order transforms by type (ENCR, PRF, INTEG, KE, ESN) as peers do.
    std::stable_sort(p.transforms.begin(), p.transforms.end(),
                     [](const Transform& a, const Transform& b) { return a.type < b.type; });
    // Remove exact duplicates (e.g. a PRF named twice).
    p.transforms.erase(std::unique(p.transforms.begin(), p.transforms.end()), p.transforms.end());
    return p;
}

/// The transforms a proposal allows for type t; an absent ESN means "no ESN" and an absent
/// KE "none" (RFC 7296 §3.3.3).
std::vector<Transform> allowed(const Proposal& p, TransformType t) {
    std::vector<Transform> out;
    for (const Transform& x : p.transforms) {
        if (x.type == t) {
            out.push_back(x);
        }
    }
    if (out.empty() && t == TransformType::kEsn) {
        out.push_back(transform(TransformType::kEsn, esn::kNoEsn, 0));
    }
    if (out.empty() && is_ke_type(t)) {
        // RFC 9370 §2.2.1: no transform of an additional key exchange type means NONE.
        out.push_back(transform(t, ke::kNone, 0));
    }
    return out;
}

std::vector<TransformType> types_of(const Proposal& a, const Proposal& b, bool ignore_ke) {
    std::vector<TransformType> types;
    for (const Proposal* p : {&a, &b}) {
        for (const Transform& x : p->transforms) {
            if (ignore_ke && is_ke_type(x.type)) {
                continue;
            }
            if (std::find(types.begin(), types.end(), x.type) == types.end()) {
                types.push_back(x.type);
            }
        }
    }
    std::sort(types.begin(), types.end());
    return types;
}

/// One transform per type common to `ours` (preference order) and `theirs`, or nothing.
std::optional<std::vector<Transform>> match(const Proposal& ours, const Proposal& theirs,
                                            bool ignore_ke) {
    if (ours.protocol != theirs.protocol) {
        return std::nullopt;
    }
    std::vector<Transform> chosen;
    for (TransformType t : types_of(ours, theirs, ignore_ke)) {
        const auto a = allowed(ours, t);
        const auto b = allowed(theirs, t);
        auto it = std::find_if(a.begin(), a.end(), [&](const Transform& x) {
            return std::find(b.begin(), b.end(), x) != b.end();
        });
        if (it == a.end()) {
            return std::nullopt;
        }
        // Only types the offer carried go back (an implied "no ESN" / "no KE" does not).
        if (has_type(theirs, t)) {
            chosen.push_back(*it);
        }
    }
    return chosen;
}

std::string transform_text(const Transform& t) {
    if (is_additional_ke(t.type)) {
        // strongSwan: "KE1_ML_KEM_768"; the NONE transform as "KE1_NONE" [R].
        const int round = static_cast<int>(t.type) - static_cast<int>(TransformType::kKe) - 1;
        return fmt::format("KE{}_{}", round,
                           t.id == ke::kNone ? std::string("NONE")
                                             : wire::transform_name(TransformType::kKe, t.id));
    }
    std::string s = wire::transform_name(t.type, t.id);
    if (auto bits = t.key_length()) {
        s += "_" + std::to_string(*bits);
    }
    return s;
}

}  // namespace

Result<std::vector<Proposal>> parse_proposals(std::string_view text, wire::ProtocolId protocol,
                                              std::string* why) {
    std::vector<Proposal> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto comma = text.find(',', pos);
        std::string_view one =
                text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos);
        while (!one.empty() && one.front() == ' ') {
            one.remove_prefix(1);
        }
        while (!one.empty() && one.back() == ' ') {
            one.remove_suffix(1);
        }
        pos = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
        if (one.empty()) {
            continue;
        }
        if (out.size() == 255) {
            return bad(why, "proposal: more than 255 proposals", "more than 255 proposals");
        }
        out.push_back(IKEPLEX_TRY(
                parse_one(one, protocol, static_cast<std::uint8_t>(out.size() + 1), why)));
    }
    if (out.empty()) {
        return bad(why, "proposal: empty proposal list", "no proposal in the list");
    }
    return out;
}

std::string describe(const Proposal& p) {
    std::string s = p.protocol == wire::ProtocolId::kIke   ? "IKE:"
                    : p.protocol == wire::ProtocolId::kEsp ? "ESP:"
                                                           : "AH:";
    // strongSwan's order: encryption, integrity, PRF, key exchange, additional key exchanges
    // 1..7, ESN, then the rest.
    const auto rank = [](TransformType t) {
        switch (t) {
            case TransformType::kEncr:
                return 0;
            case TransformType::kInteg:
                return 1;
            case TransformType::kPrf:
                return 2;
            case TransformType::kKe:
                return 3;
            case TransformType::kEsn:
                return 20;
            default:
                return is_additional_ke(t) ? 4 + static_cast<int>(t) : 30;
        }
    };
    std::vector<const Transform*> order;
    for (const Transform& t : p.transforms) {
        order.push_back(&t);
    }
    std::stable_sort(order.begin(), order.end(), [&](const Transform* a, const Transform* b) {
        return rank(a->type) < rank(b->type);
    });
    for (std::size_t i = 0; i < order.size(); ++i) {
        s += (i == 0 ? "" : "/") + transform_text(*order[i]);
    }
    return s;
}

std::string describe(std::span<const Proposal> ps, std::size_t max) {
    std::string s;
    for (std::size_t i = 0; i < ps.size() && i < max; ++i) {
        s += (i == 0 ? "" : ", ") + describe(ps[i]);
    }
    if (ps.size() > max) {
        s += fmt::format(" and {} more", ps.size() - max);
    }
    return s.empty() ? "none" : s;
}

Result<Proposal> select_proposal(std::span<const Proposal> offered,
                                 std::span<const Proposal> configured, bool ignore_ke) {
    for (const Proposal& ours : configured) {
        for (const Proposal& theirs : offered) {
            if (auto chosen = match(ours, theirs, ignore_ke)) {
                return Proposal{theirs.number, theirs.protocol, theirs.spi, std::move(*chosen)};
            }
        }
    }
    return wire::error_with_notify(Errc::kNoProposal, "no acceptable proposal",
                                   wire::NotifyType::kNoProposalChosen);
}

namespace {

/// Whether a proposal of ours allows NONE for the additional key exchange type t.
bool offers_none(const Proposal& ours, TransformType t) {
    return std::any_of(ours.transforms.begin(), ours.transforms.end(),
                       [t](const Transform& x) { return x.type == t && x.id == ke::kNone; });
}

/// Whether a proposal of ours allows no extended sequence numbers (no ESN transform at all,
/// or "no ESN" among them).
bool offers_no_esn(const Proposal& ours) {
    bool any = false;
    for (const Transform& t : ours.transforms) {
        if (t.type == TransformType::kEsn) {
            any = true;
            if (t.id == crypto::esn::kNoEsn) {
                return true;
            }
        }
    }
    return !any;
}

}  // namespace

Status verify_chosen(const Proposal& chosen, std::span<const Proposal> offered, bool ignore_ke) {
    for (const Proposal& ours : offered) {
        if (ours.number != chosen.number || ours.protocol != chosen.protocol) {
            continue;
        }
        std::vector<TransformType> seen;
        for (const Transform& t : chosen.transforms) {
            if (ignore_ke && is_ke_type(t.type)) {
                continue;
            }
            if (std::find(seen.begin(), seen.end(), t.type) != seen.end()) {
                return wire::error_with_notify(Errc::kNoProposal,
                                               "peer chose two transforms of a type",
                                               wire::NotifyType::kNoProposalChosen);
            }
            seen.push_back(t.type);
            const auto a = allowed(ours, t.type);
            if (std::find(a.begin(), a.end(), t) == a.end()) {
                return wire::error_with_notify(Errc::kNoProposal,
                                               "peer chose a transform we did not offer",
                                               wire::NotifyType::kNoProposalChosen);
            }
        }
        for (const Transform& t : ours.transforms) {
            // A chosen proposal without ESN means no ESN (RFC 7296 §3.3.3): acceptable only if
            // we offered that; one without KE is checked by the PFS logic; one without an
            // additional key exchange type means NONE for that round (RFC 9370 §2.2.1),
            // acceptable only if we offered NONE (or, ignoring KE, in any case).
            const bool optional = t.type == TransformType::kKe ||
                                  (ignore_ke && is_ke_type(t.type)) ||
                                  (t.type == TransformType::kEsn && offers_no_esn(ours)) ||
                                  (is_additional_ke(t.type) && offers_none(ours, t.type));
            if (!optional && std::find(seen.begin(), seen.end(), t.type) == seen.end()) {
                return wire::error_with_notify(Errc::kNoProposal, "peer left out a transform type",
                                               wire::NotifyType::kNoProposalChosen);
            }
        }
        return ok();
    }
    return wire::error_with_notify(Errc::kNoProposal, "peer chose a proposal we did not offer",
                                   wire::NotifyType::kNoProposalChosen);
}

std::uint16_t ke_method(const Proposal& p) noexcept {
    for (const Transform& t : p.transforms) {
        if (t.type == TransformType::kKe) {
            return t.id;
        }
    }
    return 0;
}

std::vector<std::uint16_t> ke_methods(std::span<const Proposal> ps) {
    std::vector<std::uint16_t> out;
    for (const Proposal& p : ps) {
        for (const Transform& t : p.transforms) {
            if (t.type == TransformType::kKe && t.id != ke::kNone &&
                std::find(out.begin(), out.end(), t.id) == out.end()) {
                out.push_back(t.id);
            }
        }
    }
    return out;
}

bool offers_additional_ke(std::span<const Proposal> ps) noexcept {
    return std::any_of(ps.begin(), ps.end(), [](const Proposal& p) {
        return std::any_of(p.transforms.begin(), p.transforms.end(), [](const Transform& t) {
            return is_additional_ke(t.type) && t.id != ke::kNone;
        });
    });
}

Proposal without_ke(Proposal p) {
    p.transforms.erase(std::remove_if(p.transforms.begin(), p.transforms.end(),
                                      [](const Transform& t) { return is_ke_type(t.type); }),
                       p.transforms.end());
    return p;
}

namespace {

/// Records a chosen additional key exchange (transform types 6..12) in `rounds`; a method the
/// crypto layer does not have is NO_PROPOSAL_CHOSEN. Other transform types are ignored.
Status note_additional_ke(const crypto::Registry& r, const Transform& t,
                          std::array<std::uint16_t, 7>& rounds) {
    if (!is_additional_ke(t.type)) {
        return ok();
    }
    if (t.id != ke::kNone && r.ke(t.id) == nullptr) {
        return wire::error_with_notify(Errc::kNoProposal,
                                       "unsupported additional key exchange method",
                                       wire::NotifyType::kNoProposalChosen);
    }
    rounds.at(static_cast<std::size_t>(t.type) - static_cast<std::size_t>(TransformType::kAddKe1)) =
            t.id;
    return ok();
}

}  // namespace

Result<IkeAlgorithms> ike_algorithms(const crypto::Registry& r, const Proposal& p) {
    IkeAlgorithms a;
    for (const Transform& t : p.transforms) {
        switch (t.type) {
            case TransformType::kEncr:
                a.suite.encr = r.encr(t.id, t.key_length().value_or(0));
                break;
            case TransformType::kPrf:
                a.suite.prf = r.prf(t.id);
                break;
            case TransformType::kInteg:
                a.suite.integ = r.integ(t.id);
                break;
            case TransformType::kKe:
                a.ke = t.id;
                break;
            default:
                IKEPLEX_TRY(note_additional_ke(r, t, a.additional_ke));
                break;
        }
    }
    if (a.suite.encr == nullptr || a.suite.prf == nullptr || r.ke(a.ke) == nullptr ||
        (a.suite.encr->aead == (a.suite.integ != nullptr))) {
        return wire::error_with_notify(Errc::kNoProposal,
                                       "IKE proposal with unsupported algorithms",
                                       wire::NotifyType::kNoProposalChosen);
    }
    return a;
}

Result<ChildAlgorithms> child_algorithms(const crypto::Registry& r, const Proposal& p) {
    ChildAlgorithms a;
    for (const Transform& t : p.transforms) {
        switch (t.type) {
            case TransformType::kEncr:
                a.encr = r.encr(t.id, t.key_length().value_or(0));
                break;
            case TransformType::kInteg:
                if (t.id != integ::kNone) {
                    a.integ = r.integ(t.id);
                    if (a.integ == nullptr) {
                        return wire::error_with_notify(Errc::kNoProposal,
                                                       "unsupported integrity algorithm",
                                                       wire::NotifyType::kNoProposalChosen);
                    }
                }
                break;
            case TransformType::kEsn:
                a.esn = t.id == esn::kEsn;
                break;
            case TransformType::kKe:
                a.ke = t.id;
                break;
            default:
                IKEPLEX_TRY(note_additional_ke(r, t, a.additional_ke));
                break;
        }
    }
    if (a.encr == nullptr || (a.encr->aead && a.integ != nullptr) ||
        (!a.encr->aead && a.integ == nullptr)) {
        return wire::error_with_notify(Errc::kNoProposal,
                                       "ESP proposal with unsupported algorithms",
                                       wire::NotifyType::kNoProposalChosen);
    }
    return a;
}

}  // namespace ikeplex::ike
