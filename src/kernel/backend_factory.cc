#include "kernel/backend_factory.h"

#include "kernel/none_backend.h"
#include "kernel/userspace_backend.h"
#include "kernel/xfrm/backend.h"
#include "util/log.h"

namespace ikeplex::kernel {

namespace {

/// The backend `b` (which allocates the inbound SPIs itself); a failure to create it is logged.
template <class B>
Result<BuiltBackend> built(Result<std::unique_ptr<B>> b, const char* what) {
    if (!b) {
        log::error(log::Subsystem::kDmn, "cannot start the {}: {}", what, b.error().to_string());
        return b.error();
    }
    BuiltBackend out;
    out.spis = b->get();
    out.backend = std::move(*b);
    return out;
}

Result<BuiltBackend> make_userspace(const BackendSettings& s, const crypto::Registry& registry) {
    esp::DataplaneOptions o;
    o.workers = s.workers;
    o.tun_name = s.tun_name;
    o.mtu = s.mtu;
    o.offloads = s.offloads;
    o.raw_esp = s.raw_esp;
    o.ipsec_mb = s.ipsec_mb;
    o.udp_binds = s.udp_binds;
    return built(UserspaceBackend::create(registry, std::move(o)), "userspace data plane");
}

Result<BuiltBackend> make_xfrm() {
    auto b = XfrmBackend::create(XfrmOptions{});
    const bool per_cpu = b && (*b)->probe().per_cpu;
    auto out = IKEPLEX_TRY(built(std::move(b), "xfrm backend"));
    out.per_cpu_sas = per_cpu;
    return out;
}

}  // namespace

Result<BuiltBackend> make_backend(const BackendSettings& s, const crypto::Registry& registry) {
    BuiltBackend out;
    if (s.kind == "userspace") {
        out = IKEPLEX_TRY(make_userspace(s, registry));
    } else if (s.kind == "xfrm") {
        out = IKEPLEX_TRY(make_xfrm());
    } else {
        out.backend = std::make_unique<NoneBackend>();
    }
    out.backend->set_vip_interface(s.vip_interface);
    return out;
}

}  // namespace ikeplex::kernel
