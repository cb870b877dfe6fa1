#include "esp/io/steering.h"

#include <array>
#include <cerrno>
#include <cstring>

#include <linux/bpf.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <unistd.h>

#include "util/sys_error.h"

namespace ikeplex::esp::io {

namespace {

// Classic BPF opcodes (include/uapi/linux/filter.h, bpf_common.h), spelt out so that no macro
// with C casts is needed.
constexpr std::uint16_t kLdWLen = BPF_LD | BPF_W | BPF_LEN;
constexpr std::uint16_t kLdWAbs = BPF_LD | BPF_W | BPF_ABS;
constexpr std::uint16_t kLdWInd = BPF_LD | BPF_W | BPF_IND;
constexpr std::uint16_t kLdxBMsh = BPF_LDX | BPF_B | BPF_MSH;
constexpr std::uint16_t kLdxImm = BPF_LDX | BPF_W | BPF_IMM;
constexpr std::uint16_t kRshK = BPF_ALU | BPF_RSH | BPF_K;
constexpr std::uint16_t kAddK = BPF_ALU | BPF_ADD | BPF_K;
constexpr std::uint16_t kSubX = BPF_ALU | BPF_SUB | BPF_X;
constexpr std::uint16_t kJeqK = BPF_JMP | BPF_JEQ | BPF_K;
constexpr std::uint16_t kJgeK = BPF_JMP | BPF_JGE | BPF_K;
constexpr std::uint16_t kRetK = BPF_RET | BPF_K;
constexpr std::uint16_t kRetA = BPF_RET | BPF_A;
constexpr std::uint32_t kKeep = 0xFFFFFFFF;

sock_filter stmt(std::uint16_t code, std::uint32_t k) noexcept {
    return sock_filter{code, 0, 0, k};
}
sock_filter jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) noexcept {
    return sock_filter{code, jt, jf, k};
}

Status attach_cbpf(int fd, int option, std::vector<sock_filter>& prog) {
    sock_fprog fprog{};
    fprog.len = static_cast<unsigned short>(prog.size());
    fprog.filter = prog.data();
    if (::setsockopt(fd, SOL_SOCKET, option, &fprog, sizeof fprog) != 0) {
        return sys_error("setsockopt: attach classic BPF program");
    }
    return ok();
}

}  // namespace

Result<UniqueFd> load_cpu_steering_program() {
    std::array<bpf_insn, 2> insns{};
    insns[0].code = BPF_JMP | BPF_CALL;
    insns[0].imm = BPF_FUNC_get_smp_processor_id;
    insns[1].code = BPF_JMP | BPF_EXIT;
    static constexpr char kLicense[] = "Apache-2.0";  // the helper is not GPL-only
    bpf_attr attr{};
    attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    attr.insn_cnt = static_cast<std::uint32_t>(insns.size());
    attr.insns = reinterpret_cast<std::uintptr_t>(insns.data());
    attr.license = reinterpret_cast<std::uintptr_t>(kLicense);
    const long fd = ::syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    if (fd < 0) {
        return sys_error("bpf(BPF_PROG_LOAD): CPU steering program");
    }
    return UniqueFd(static_cast<int>(fd));
}

std::vector<sock_filter> spi_reuseport_program(unsigned nworkers) {
    return {
            stmt(kLdWLen, 0),             // 0: A = len
            jump(kJgeK, 4, 0, 6),         // 1: len >= 4 ? 2 : 8
            stmt(kLdWAbs, 0),             // 2: A = SPI
            jump(kJeqK, 0, 4, 0),         // 3: A == 0 ? 8 : 4
            stmt(kRshK, 24),              // 4: A >>= 24
            jump(kJgeK, nworkers, 3, 0),  // 5: A >= nworkers ? 9 : 6
            stmt(kAddK, 1),               // 6: A += 1
            stmt(kRetA, 0),               // 7: return A
            stmt(kRetK, 0),               // 8: return 0 (control socket)
            stmt(kRetK, 1),               // 9: return 1 (worker 0)
    };
}

Status attach_spi_steering(int any_socket_in_group_fd, unsigned nworkers) {
    if (nworkers == 0 || nworkers > 255) {
        return make_error(Errc::kInvalidArgument, "SPI steering: nworkers must be 1..255");
    }
    auto prog = spi_reuseport_program(nworkers);
    return attach_cbpf(any_socket_in_group_fd, SO_ATTACH_REUSEPORT_CBPF, prog);
}

std::vector<sock_filter> esp_socket_filter(bool ipv4, unsigned worker, unsigned nworkers) {
    return {
            ipv4 ? stmt(kLdxBMsh, 0) : stmt(kLdxImm, 0),  // 0: X = IP header length
            stmt(kLdWLen, 0),                             // 1: A = len
            stmt(kSubX, 0),                               // 2: A -= X
            jump(kJgeK, 8, 0, 7),                         // 3: A >= 8 ? 4 : 11
            stmt(kLdWInd, 0),                             // 4: A = SPI
            jump(kJeqK, 0, 5, 0),                         // 5: A == 0 ? 11 : 6
            stmt(kRshK, 24),                              // 6: A >>= 24
            jump(kJgeK, nworkers, 1, 0),                  // 7: A >= nworkers ? 9 : 8
            jump(kJeqK, worker, 1, 2),                    // 8: A == worker ? 10 : 11
            stmt(kRetK, worker == 0 ? kKeep : 0),         // 9: unknown worker
            stmt(kRetK, kKeep),                           // 10: keep
            stmt(kRetK, 0),                               // 11: drop
    };
}

Status attach_esp_filter(int fd, bool ipv4, unsigned worker, unsigned nworkers) {
    if (nworkers == 0 || nworkers > 255 || worker >= nworkers) {
        return make_error(Errc::kInvalidArgument, "ESP filter: worker/nworkers out of range");
    }
    auto prog = esp_socket_filter(ipv4, worker, nworkers);
    return attach_cbpf(fd, SO_ATTACH_FILTER, prog);
}

}  // namespace ikeplex::esp::io
