// The method factories: one line per method a side can run.
#include <utility>

#include "eap/eap.h"
#include "eap/md5.h"

namespace ikeplex::eap {

Result<std::unique_ptr<ServerMethod>> make_server(Type t, ServerContext ctx) {
    (void)ctx;
    switch (t) {
        case Type::kMd5:
            return make_md5_server(std::move(ctx));
        default:
            return make_error(Errc::kUnsupported, "EAP: method not supported as server");
    }
}

Result<std::unique_ptr<PeerMethod>> make_peer(Type t, PeerContext ctx) {
    (void)ctx;
    switch (t) {
        case Type::kMd5:
            return make_md5_peer(std::move(ctx));
        default:
            return make_error(Errc::kUnsupported, "EAP: method not supported as peer");
    }
}

}  // namespace ikeplex::eap
