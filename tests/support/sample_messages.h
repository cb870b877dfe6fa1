// Hand-built IKEv2 messages covering every payload the codec implements, for tests that need
// well-formed input (tshark decoding, describe(), benchmarks).
#pragma once

#include <vector>

#include "wire/message.h"

namespace ikeplex::test {

/// IKE proposal AES-GCM-16-256 / PRF-HMAC-SHA2-256 / X25519 plus a CBC proposal with a
/// Key Length attribute and two INTEG transforms.
wire::SaPayload sample_ike_sa();
/// ESP proposal AES-GCM-16-128, no ESN, with a 4-byte SPI.
wire::SaPayload sample_esp_sa();
/// TS 10.99.1.0/24 (IPv4 range) and 2001:db8::/64 TCP port 443 (IPv6 range).
wire::TsPayload sample_ts();

/// IKE_SA_INIT request: SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) V.
wire::Message sample_ike_sa_init_request();
/// IKE_SA_INIT response: SA KE No N(NATD_S_IP) N(NATD_D_IP) CERTREQ N(FRAG_SUP) N(HASH_ALG).
wire::Message sample_ike_sa_init_response();

/// The decrypted contents of an IKE_AUTH request with a certificate:
/// IDi CERT CERTREQ IDr AUTH CP SA TSi TSr N(INIT_CONTACT) N(SET_WINSIZE) N(RES_INFO).
/// `cert_der` is the certificate to carry (a filler pattern when empty).
std::vector<wire::Payload> sample_ike_auth_request_inner(ByteView cert_der = {});
/// CREATE_CHILD_SA request for an RFC 9611 group member: SA No KE TSi TSr N(RES_INFO).
std::vector<wire::Payload> sample_create_child_sa_member_inner();
/// CREATE_CHILD_SA response refusing a member: N(TS_MAX_QUEUE).
std::vector<wire::Payload> sample_ts_max_queue_inner();
/// INFORMATIONAL request: D(ESP, 2 SPIs) D(IKE) N(REKEY_SA-like status) V.
std::vector<wire::Payload> sample_informational_inner();
/// IKE_AUTH request of an EAP round: EAP/RES/ID ("a.test").
std::vector<wire::Payload> sample_eap_inner();

/// A header for an encrypted exchange.
wire::Header sample_header(wire::ExchangeType exchange, bool response, std::uint32_t mid);

}  // namespace ikeplex::test
