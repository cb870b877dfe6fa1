// The method factories: one line per method a side can run.
#include "eap/eap.h"

namespace ikeplex::eap {

Result<std::unique_ptr<ServerMethod>> make_server(Type t, ServerContext ctx) {
    (void)ctx;
    switch (t) {
        default:
            return make_error(Errc::kUnsupported, "EAP: method not supported as server");
    }
}

Result<std::unique_ptr<PeerMethod>> make_peer(Type t, PeerContext ctx) {
    (void)ctx;
    switch (t) {
        default:
            return make_error(Errc::kUnsupported, "EAP: method not supported as peer");
    }
}

}  // namespace ikeplex::eap
