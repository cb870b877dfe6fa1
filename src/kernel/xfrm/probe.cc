// The xfrm backend's start-up probe (XfrmBackend::run_probe): one larval SA on loopback tells
// whether the kernel knows per-CPU SAs and whether it installs ESP SAs at all.
#include <linux/xfrm.h>

#include "kernel/xfrm/backend.h"
#include "kernel/xfrm/codec/uapi.h"
#include "kernel/xfrm/selectors.h"
#include "util/log.h"
#include "util/random.h"

namespace ikeplex::kernel {
namespace {

using log::Subsystem;

}  // namespace

void XfrmBackend::run_probe() {
    // One larval SA on loopback tells both: ALLOCSPI with XFRMA_SA_PCPU = 0 answers with the
    // attribute only if the kernel knows per-CPU SAs (older kernels ignore the attribute);
    // installing ESP over it shows whether ESP (and cbc(aes)/hmac(sha256)) exists at all.
    const IpAddress lo = IpAddress::parse("127.0.0.1").value();
    // The real sequence: ALLOCSPI with CPU and direction, then UPDSA with both (a larval state
    // only takes an update of its own direction).
    auto alloc = request(
            xfrm::build_alloc_spi(lo, lo, kSpiMin, kSpiMax, 0, 0U, kEsp, xfrm::kXfrmSaDirIn),
            "probe ALLOCSPI");
    if (!alloc || alloc->error != 0 || alloc->messages.empty()) {
        probe_.esp_detail = probe_.per_cpu_detail =
                alloc ? "ALLOCSPI refused: " + netlink::kernel_says(*alloc) : "ALLOCSPI failed";
        log::error(Subsystem::kKnl, "xfrm: probe: {}", probe_.esp_detail);
        return;
    }
    auto msgs = netlink::split_messages(alloc->messages.front());
    std::optional<xfrm::SaInfo> larval;
    if (msgs && !msgs->empty()) {
        if (auto sa = xfrm::parse_sa(msgs->front().payload)) {
            larval = *sa;
        }
    }
    if (!larval) {
        probe_.esp_detail = probe_.per_cpu_detail = "ALLOCSPI answer did not parse";
        log::error(Subsystem::kKnl, "xfrm: probe: {}", probe_.esp_detail);
        return;
    }
    probe_.per_cpu = larval->pcpu.has_value();
    if (!probe_.per_cpu) {
        probe_.per_cpu_detail = "the kernel ignores XFRMA_SA_PCPU (needs Linux 6.13+)";
    }
    xfrm::SaSpec s;
    s.src = lo;
    s.dst = lo;
    s.spi = larval->spi;
    s.mode = xfrm::XfrmMode::kTransport;
    s.selector = host_selector(lo, lo);
    if (probe_.per_cpu) {
        s.pcpu = 0;
        s.direction = xfrm::kXfrmSaDirIn;
    }
    OsRandom random;
    SecretBytes ek(16);
    SecretBytes ik(32);
    random.fill(ek.mut_view());
    random.fill(ik.mut_view());
    s.encryption = xfrm::Algorithm{"cbc(aes)", 0, std::move(ek)};
    s.integrity = xfrm::Algorithm{"hmac(sha256)", 128, std::move(ik)};
    auto upd = request(xfrm::build_new_sa(s, true), "probe UPDSA");
    if (upd && upd->error == 0) {
        probe_.esp = true;
    } else {
        probe_.esp_detail = upd ? netlink::kernel_says(*upd) : upd.error().to_string();
    }
    (void)request(xfrm::build_del_sa(lo, larval->spi), "probe DELSA");
    if (probe_.esp) {
        log::info(Subsystem::kKnl, "xfrm: the kernel installs ESP SAs; per-CPU SAs {}",
                  probe_.per_cpu ? "supported (XFRMA_SA_PCPU)" : "not supported");
    } else {
        log::warn(Subsystem::kKnl,
                  "xfrm: this kernel cannot install ESP SAs ({}): policies, acquires and SPIs "
                  "work, but every Child SA install will fail; use backend = userspace",
                  probe_.esp_detail);
        log::info(Subsystem::kKnl, "xfrm: per-CPU SAs {}",
                  probe_.per_cpu ? "supported (XFRMA_SA_PCPU)" : probe_.per_cpu_detail);
    }
}

}  // namespace ikeplex::kernel
