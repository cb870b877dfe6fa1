#include "daemon/key_log.h"

#include <cerrno>
#include <cstring>
#include <string_view>

#include <sys/stat.h>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "crypto/algorithm_ids.h"
#include "util/log.h"
#include "util/secret_bytes.h"

namespace ikeplex::daemon {

namespace {

using log::Subsystem;

/// Lower-case hex of `data` appended to `out` (no copy of the key outside `out`).
void append_hex(std::string& out, ByteView data) {
    static constexpr std::string_view kDigits = "0123456789abcdef";
    for (const std::uint8_t b : data) {
        out.push_back(kDigits[b >> 4U]);
        out.push_back(kDigits[b & 0x0fU]);
    }
}

void wipe(std::string& s) noexcept {
    secure_zero(MutByteView(reinterpret_cast<std::uint8_t*>(s.data()), s.size()));
    s.clear();
}

/// The ICV length (8, 12 or 16 octets) of an AES-GCM or AES-CCM transform; 0 for others.
int aead_icv(std::uint16_t id) noexcept {
    switch (id) {
        case crypto::encr::kAesGcm8:
        case crypto::encr::kAesCcm8:
            return 8;
        case crypto::encr::kAesGcm12:
        case crypto::encr::kAesCcm12:
            return 12;
        case crypto::encr::kAesGcm16:
        case crypto::encr::kAesCcm16:
            return 16;
        default:
            return 0;
    }
}

/// Wireshark 4.0's IKEv2 UAT names (packet-isakmp.c, vs_ikev2_encr_algs) by family and size.
const char* ike_aes(std::string_view family, std::uint16_t key_bits, int icv) noexcept {
    // clang-format off
    static constexpr struct { std::string_view family; std::uint16_t bits; int icv; const char* name; } kNames[] = {
        {"cbc", 128, 0, "AES-CBC-128 [RFC3602]"},
        {"cbc", 192, 0, "AES-CBC-192 [RFC3602]"},
        {"cbc", 256, 0, "AES-CBC-256 [RFC3602]"},
        {"ctr", 128, 0, "AES-CTR-128 [RFC5930]"},
        {"ctr", 192, 0, "AES-CTR-192 [RFC5930]"},
        {"ctr", 256, 0, "AES-CTR-256 [RFC5930]"},
        {"gcm", 128, 8, "AES-GCM-128 with 8 octet ICV [RFC5282]"},
        {"gcm", 192, 8, "AES-GCM-192 with 8 octet ICV [RFC5282]"},
        {"gcm", 256, 8, "AES-GCM-256 with 8 octet ICV [RFC5282]"},
        {"gcm", 128, 12, "AES-GCM-128 with 12 octet ICV [RFC5282]"},
        {"gcm", 192, 12, "AES-GCM-192 with 12 octet ICV [RFC5282]"},
        {"gcm", 256, 12, "AES-GCM-256 with 12 octet ICV [RFC5282]"},
        {"gcm", 128, 16, "AES-GCM-128 with 16 octet ICV [RFC5282]"},
        {"gcm", 192, 16, "AES-GCM-192 with 16 octet ICV [RFC5282]"},
        {"gcm", 256, 16, "AES-GCM-256 with 16 octet ICV [RFC5282]"},
        {"ccm", 128, 8, "AES-CCM-128 with 8 octet ICV [RFC5282]"},
        {"ccm", 192, 8, "AES-CCM-192 with 8 octet ICV [RFC5282]"},
        {"ccm", 256, 8, "AES-CCM-256 with 8 octet ICV [RFC5282]"},
        {"ccm", 128, 12, "AES-CCM-128 with 12 octet ICV [RFC5282]"},
        {"ccm", 192, 12, "AES-CCM-192 with 12 octet ICV [RFC5282]"},
        {"ccm", 256, 12, "AES-CCM-256 with 12 octet ICV [RFC5282]"},
        {"ccm", 128, 16, "AES-CCM-128 with 16 octet ICV [RFC5282]"},
        {"ccm", 192, 16, "AES-CCM-192 with 16 octet ICV [RFC5282]"},
        {"ccm", 256, 16, "AES-CCM-256 with 16 octet ICV [RFC5282]"},
    };
    // clang-format on
    for (const auto& n : kNames) {
        if (n.family == family && n.bits == key_bits && n.icv == icv) {
            return n.name;
        }
    }
    return nullptr;
}

}  // namespace

const char* wireshark_ike_encr(std::uint16_t id, std::uint16_t key_bits) noexcept {
    switch (id) {
        case crypto::encr::k3des:
            return "3DES [RFC2451]";
        case crypto::encr::kNull:
            return "NULL [RFC2410]";
        case crypto::encr::kAesCbc:
            return ike_aes("cbc", key_bits, 0);
        case crypto::encr::kAesCtr:
            return ike_aes("ctr", key_bits, 0);
        case crypto::encr::kAesGcm8:
        case crypto::encr::kAesGcm12:
        case crypto::encr::kAesGcm16:
            return ike_aes("gcm", key_bits, aead_icv(id));
        case crypto::encr::kAesCcm8:
        case crypto::encr::kAesCcm12:
        case crypto::encr::kAesCcm16:
            return ike_aes("ccm", key_bits, aead_icv(id));
        default:
            return nullptr;  // ChaCha20-Poly1305, DES, AES-GMAC: not in Wireshark 4.0's table
    }
}

const char* wireshark_ike_integ(std::uint16_t id) noexcept {
    switch (id) {
        case crypto::integ::kNone:
            return "NONE [RFC4306]";
        case crypto::integ::kHmacMd5_96:
            return "HMAC_MD5_96 [RFC2403]";
        case crypto::integ::kHmacSha1_96:
            return "HMAC_SHA1_96 [RFC2404]";
        case crypto::integ::kHmacSha2_256_128:
            return "HMAC_SHA2_256_128 [RFC4868]";
        case crypto::integ::kHmacSha2_384_192:
            return "HMAC_SHA2_384_192 [RFC4868]";
        case crypto::integ::kHmacSha2_512_256:
            return "HMAC_SHA2_512_256 [RFC4868]";
        default:
            // AES-XCBC-96: Wireshark decrypts without checking the 96-bit ICV.
            return "ANY 96-bits of Authentication [No Checking]";
    }
}

const char* wireshark_esp_encr(std::uint16_t id) noexcept {
    // packet-esp.c, esp_encryption_type_vals (Wireshark 4.0).
    switch (id) {
        case crypto::encr::kNull:
            return "NULL";
        case crypto::encr::kDes:
            return "DES-CBC [RFC2405]";
        case crypto::encr::k3des:
            return "TripleDES-CBC [RFC2451]";
        case crypto::encr::kAesCbc:
            return "AES-CBC [RFC3602]";
        case crypto::encr::kAesCtr:
            return "AES-CTR [RFC3686]";
        case crypto::encr::kAesGcm8:
            return "AES-GCM with 8 octet ICV [RFC4106]";
        case crypto::encr::kAesGcm12:
            return "AES-GCM with 12 octet ICV [RFC4106]";
        case crypto::encr::kAesGcm16:
            return "AES-GCM with 16 octet ICV [RFC4106]";
        default:
            return nullptr;  // AES-CCM, ChaCha20-Poly1305, AES-GMAC
    }
}

const char* wireshark_esp_auth(std::uint16_t id) noexcept {
    // packet-esp.c, esp_authentication_type_vals (Wireshark 4.0).
    switch (id) {
        case crypto::integ::kNone:
            return "NULL";
        case crypto::integ::kHmacMd5_96:
            return "HMAC-MD5-96 [RFC2403]";
        case crypto::integ::kHmacSha1_96:
            return "HMAC-SHA-1-96 [RFC2404]";
        case crypto::integ::kHmacSha2_256_128:
            return "HMAC-SHA-256-128 [RFC4868]";
        case crypto::integ::kHmacSha2_384_192:
            return "HMAC-SHA-384-192 [RFC4868]";
        case crypto::integ::kHmacSha2_512_256:
            return "HMAC-SHA-512-256 [RFC4868]";
        default:
            return "ANY 96 bit authentication [no checking]";  // AES-XCBC-96
    }
}

bool append_ikev2_decryption_line(const ike::IkeKeyRecord& r, std::string& out) {
    const crypto::EncrInfo* encr = r.suite.encr;
    const char* encr_name =
            encr != nullptr ? wireshark_ike_encr(encr->id, encr->key_bits) : nullptr;
    if (encr_name == nullptr) {
        return false;
    }
    const char* integ_name = wireshark_ike_integ(r.suite.integ != nullptr ? r.suite.integ->id
                                                                          : crypto::integ::kNone);
    out.reserve(out.size() + 512);  // no reallocation: no stray copies of the keys
    // Initiator's SPI, Responder's SPI, SK_ei, SK_er, encryption, SK_ai, SK_ar, integrity: the
    // bytes in hex, the algorithms quoted (as Wireshark writes the file itself).
    fmt::format_to(std::back_inserter(out), "{:016x},{:016x},", r.spi_i.value(), r.spi_r.value());
    append_hex(out, r.keys.sk_ei.view());
    out.push_back(',');
    append_hex(out, r.keys.sk_er.view());
    fmt::format_to(std::back_inserter(out), ",\"{}\",", encr_name);
    append_hex(out, r.keys.sk_ai.view());
    out.push_back(',');
    append_hex(out, r.keys.sk_ar.view());
    fmt::format_to(std::back_inserter(out), ",\"{}\"\n", integ_name);
    return true;
}

bool append_esp_sa_line(const ike::InstallSa& sa, std::string& out) {
    const char* encr_name = wireshark_esp_encr(sa.encr_id);
    if (encr_name == nullptr) {
        return false;
    }
    const char* auth_name = wireshark_esp_auth(sa.integ_id);
    out.reserve(out.size() + 512);  // no reallocation: no stray copies of the keys
    // Protocol, Src IP, Dest IP, SPI, Encryption, Encryption Key, Authentication,
    // Authentication Key: every field a quoted string.
    fmt::format_to(std::back_inserter(out), R"("{}","{}","{}","0x{:08x}","{}","0x)",
                   sa.src.address.is_v4() ? "IPv4" : "IPv6", sa.src.address.to_string(),
                   sa.dst.address.to_string(), sa.spi.value(), encr_name);
    append_hex(out, sa.encr_key.view());
    fmt::format_to(std::back_inserter(out), R"(","{}",")", auth_name);
    if (!sa.integ_key.empty()) {
        out.append("0x");
        append_hex(out, sa.integ_key.view());
    }
    out.append("\"\n");
    return true;
}

Status KeyLogger::open_file(File& f, const std::string& path, const char* what,
                            const char* header) {
    f.fd.reset();
    f.path = path;
    f.failed = false;
    if (path.empty()) {
        return ok();
    }
    f.fd.reset(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!f.fd) {
        const int err = errno;
        log::error(Subsystem::kDmn, "save_keys: cannot open {} for {} keys: {}", path, what,
                   std::strerror(err));
        Error e = make_error(Errc::kConfig, "save_keys: cannot open a key log file");
        e.sys_errno = err;
        return e;
    }
    log::warn(Subsystem::kDmn, "saving {} keys to {}: anyone who reads it can decrypt the traffic",
              what, path);
    struct stat st {};
    if (::fstat(f.fd.get(), &st) == 0 && st.st_size == 0) {
        std::string line(header);
        write_line(f, line);
    }
    return ok();
}

Status KeyLogger::open(const config::SaveKeys& keys) {
    const Status ike = open_file(ike_, keys.ike, "IKE",
                                 "# ikeplexd save_keys: Wireshark's ikev2_decryption_table (IKE SA "
                                 "keys; anyone who reads this can decrypt the traffic)\n");
    const Status esp = open_file(esp_, keys.esp, "ESP",
                                 "# ikeplexd save_keys: Wireshark's esp_sa (Child SA keys; anyone "
                                 "who reads this can decrypt the traffic)\n");
    return !ike ? ike : esp;
}

void KeyLogger::write_line(File& f, std::string& line) {
    const ssize_t n = ::write(f.fd.get(), line.data(), line.size());
    if ((n < 0 || static_cast<std::size_t>(n) != line.size()) && !f.failed) {
        f.failed = true;
        log::error(Subsystem::kDmn, "save_keys: cannot write to {}: {}", f.path,
                   n < 0 ? std::strerror(errno) : "short write");
    }
    wipe(line);
}

void KeyLogger::ike_sa(const ike::IkeKeyRecord& r) {
    if (!ike_on()) {
        return;
    }
    std::string line;
    if (!append_ikev2_decryption_line(r, line)) {
        log::warn(Subsystem::kDmn, "save_keys: Wireshark cannot decrypt {}: IKE SA {} not saved",
                  r.suite.encr != nullptr ? r.suite.encr->name : "?", r.spi_i);
        return;
    }
    write_line(ike_, line);
}

void KeyLogger::child_sas(const std::vector<ike::BackendCommand>& commands) {
    if (!esp_on()) {
        return;
    }
    for (const ike::BackendCommand& c : commands) {
        const auto* sa = std::get_if<ike::InstallSa>(&c);
        if (sa == nullptr) {
            continue;
        }
        std::string line;
        if (!append_esp_sa_line(*sa, line)) {
            log::warn(Subsystem::kDmn,
                      "save_keys: Wireshark cannot decrypt ESP transform {}: SPI {:08x} not saved",
                      sa->encr_id, sa->spi.value());
            continue;
        }
        write_line(esp_, line);
    }
}

}  // namespace ikeplex::daemon
