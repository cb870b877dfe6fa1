// Steering programs: which worker sees which packet, decided in the kernel.
//
// 1. TUN queue = CPU (eBPF, BPF_PROG_TYPE_SOCKET_FILTER, loaded with the plain bpf(2) syscall,
//    no libbpf or BTF; attached with ioctl(TUNSETSTEERINGEBPF, &prog_fd), -1 detaches; the TUN
//    driver takes the return value modulo the number of queues (tun_ebpf_select_queue)):
//        r0 = call bpf_get_smp_processor_id    ; BPF_JMP|BPF_CALL, imm = BPF_FUNC_... (8)
//        exit                                  ; BPF_JMP|BPF_EXIT, returns r0
//
// 2. UDP 4500 reuseport group (SO_ATTACH_REUSEPORT_CBPF, classic BPF; for UDP the program sees
//    the payload at offset 0, the kernel pulls the UDP header first; the return value is the
//    index of a socket in the group, in the order the sockets joined it; an out-of-range index
//    falls back to the kernel's hash). Index 0 is the control (IKE) socket, worker w is w + 1:
//        ld   len                ; A = payload length
//        jge  #4, L1, ret0       ; shorter than 4 bytes (a 0xFF NAT keepalive is 1 byte) -> 0
//    L1: ld   [0]                ; A = first 32 bits, network order = SPI
//        jeq  #0, ret0, L2       ; non-ESP marker: IKE -> 0
//    L2: rsh  #24                ; A = SPI >> 24 = worker
//        jge  #nworkers, ret1, L3 ; unknown worker -> worker 0 (index 1)
//    L3: add  #1
//        ret  a
//  ret0: ret  #0
//  ret1: ret  #1
//    Closing a socket moves the group's last socket into its slot: open the control socket
//    first, then the workers in order, and close them all together.
//
// 3. Raw ESP sockets (SO_ATTACH_FILTER, classic BPF, one per socket; every raw socket for
//    protocol 50 gets a copy of every ESP packet, the filter keeps the own ones; return 0 drops,
//    0xFFFFFFFF keeps the whole packet). IPv4 raw sockets see the IP header, IPv6 ones do not:
//        ldxb 4*([0]&0xf)        ; IPv4 only: X = IP header length (BPF_LDX|BPF_B|BPF_MSH)
//                                ; IPv6: ldx #0
//        ld   len
//        sub  x                  ; A = ESP length
//        jge  #8, L1, drop       ; SPI + sequence number at least
//    L1: ld   [x+0]              ; A = SPI (BPF_LD|BPF_W|BPF_IND)
//        jeq  #0, drop, L2       ; SPI 0 is reserved
//    L2: rsh  #24
//        jge  #nworkers, oor, L3
//    L3: jeq  #worker, keep, drop
//   oor: ret  #(worker == 0 ? 0xFFFFFFFF : 0)   ; unknown worker -> worker 0, as for UDP
//  keep: ret  #0xFFFFFFFF
//  drop: ret  #0
#pragma once

#include <cstdint>
#include <vector>

#include <linux/filter.h>

#include "util/result.h"
#include "util/unique_fd.h"

namespace ikeplex::esp::io {

/// The worker that owns inbound SPI `spi`: its top byte, or 0 when that is not a worker (the
/// lead engineer allocates SPIs as (worker << 24) | random 24 bits >= 256).
constexpr unsigned spi_worker(std::uint32_t spi, unsigned nworkers) noexcept {
    const unsigned w = spi >> 24U;
    return w < nworkers ? w : 0;
}

/// Loads program 1 above; the UniqueFd may be closed once attached (the device holds a reference).
Result<UniqueFd> load_cpu_steering_program();

/// Program 2 above (nworkers 1..255).
std::vector<sock_filter> spi_reuseport_program(unsigned nworkers);
/// Attaches program 2 to the reuseport group of a bound socket (the group must already exist:
/// any member's fd will do). kInvalidArgument for nworkers outside 1..255.
Status attach_spi_steering(int any_socket_in_group_fd, unsigned nworkers);

/// Program 3 above, for IPv4 (with the IP header) or IPv6 raw sockets.
std::vector<sock_filter> esp_socket_filter(bool ipv4, unsigned worker, unsigned nworkers);
/// Attaches program 3 to a raw ESP socket (SO_ATTACH_FILTER).
Status attach_esp_filter(int fd, bool ipv4, unsigned worker, unsigned nworkers);

}  // namespace ikeplex::esp::io
