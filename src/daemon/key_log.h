// Wireshark key logs (ikeplexd.conf `save_keys { ike = FILE  esp = FILE }`, off by default):
// every IKE SA's keys as a line of Wireshark's `ikev2_decryption_table` and every Child SA's
// keys, one line per direction, as a line of its `esp_sa`, so that a capture of our IKE and ESP
// traffic decrypts in Wireshark or tshark. The files are those UAT files as they are: appended
// to, created 0600, each line written with one write(2) as the SA's keys appear (IKE: when
// IKE_SA_INIT or a rekey derives them; ESP: when the engine asks the backend to install the SA).
// The algorithm names are Wireshark 4.0's (Debian 12's tshark); an algorithm Wireshark cannot
// decrypt (ChaCha20-Poly1305, AES-CCM in ESP) gets no line and a warning.
//
// This is the one place where keys leave SecretBytes, and only while the option is on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/daemon_settings.h"
#include "ike/backend_commands.h"
#include "ike/key_log.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace ikeplex::daemon {

/// Appends the ikev2_decryption_table line of `r` (with its newline) to `out`; false (nothing
/// appended) when Wireshark has no name for its encryption algorithm.
bool append_ikev2_decryption_line(const ike::IkeKeyRecord& r, std::string& out);
/// Appends the esp_sa line of one direction of a Child SA (with its newline) to `out`; false
/// (nothing appended) when Wireshark has no name for its algorithms.
bool append_esp_sa_line(const ike::InstallSa& sa, std::string& out);

/// Wireshark 4.0's names (UAT values) of IKEv2 and ESP algorithms by IANA transform id; nullptr
/// when it has none.
const char* wireshark_ike_encr(std::uint16_t id, std::uint16_t key_bits) noexcept;
const char* wireshark_ike_integ(std::uint16_t id) noexcept;
const char* wireshark_esp_encr(std::uint16_t id) noexcept;
const char* wireshark_esp_auth(std::uint16_t id) noexcept;

class KeyLogger {
public:
    /// Opens the files `keys` names (closing those open before), each with the warning that
    /// anyone who reads it can decrypt the traffic. An error names the file that cannot be
    /// opened; the others are open.
    Status open(const config::SaveKeys& keys);
    [[nodiscard]] bool ike_on() const noexcept { return ike_.fd.valid(); }
    [[nodiscard]] bool esp_on() const noexcept { return esp_.fd.valid(); }

    /// A new IKE SA's keys (the engine's key_log hook).
    void ike_sa(const ike::IkeKeyRecord& r);
    /// The InstallSa commands among `commands` (before the backend carries them out).
    void child_sas(const std::vector<ike::BackendCommand>& commands);

private:
    struct File {
        std::string path;
        UniqueFd fd;
        bool failed{false};  ///< a write failed (logged once until the file is opened again)
    };
    static Status open_file(File& f, const std::string& path, const char* what, const char* header);
    /// Writes `line` in one write(2) and wipes it.
    static void write_line(File& f, std::string& line);

    File ike_;
    File esp_;
};

}  // namespace ikeplex::daemon
