// IKEv2 code points (RFC 7296 §3 and the IANA "IKEv2 Parameters" registry) and RFC 9611's.
//
// Enums have fixed underlying types and may hold values that have no enumerator (unknown code
// points from the wire); names.h turns every value into text, never into a bare number.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ikeplex::wire {

/// RFC 7296 §3.1 Exchange Type.
enum class ExchangeType : std::uint8_t {
    kIkeSaInit = 34,
    kIkeAuth = 35,
    kCreateChildSa = 36,
    kInformational = 37,
    kIkeSessionResume = 38,  // RFC 5723
    kIkeIntermediate = 43,   // RFC 9242
    kIkeFollowupKe = 44,     // RFC 9370
};

/// RFC 7296 §3.2 Next Payload / payload type.
enum class PayloadType : std::uint8_t {
    kNone = 0,
    kSa = 33,
    kKe = 34,
    kIdi = 35,
    kIdr = 36,
    kCert = 37,
    kCertReq = 38,
    kAuth = 39,
    kNonce = 40,
    kNotify = 41,
    kDelete = 42,
    kVendorId = 43,
    kTsi = 44,
    kTsr = 45,
    kSk = 46,
    kCp = 47,
    kEap = 48,
    kGspm = 49,  // RFC 6467, not implemented: treated as unknown
    kSkf = 53,   // RFC 7383
};

/// RFC 7296 §3.3.1 Protocol ID (0 in a Notify without SPI).
enum class ProtocolId : std::uint8_t {
    kNone = 0,
    kIke = 1,
    kAh = 2,
    kEsp = 3,
};

/// RFC 7296 §3.3.2 Transform Type (and RFC 9370 ADDKE1..7).
enum class TransformType : std::uint8_t {
    kEncr = 1,
    kPrf = 2,
    kInteg = 3,
    kKe = 4,  // "D-H" in RFC 7296, "Key Exchange Method" since RFC 9370
    kEsn = 5,
    kAddKe1 = 6,
    kAddKe7 = 12,
};

/// Transform IDs (the IANA registries per transform type) are algorithms: crypto/algorithm_ids.h.

/// RFC 7296 §3.3.5 Transform attribute types.
inline constexpr std::uint16_t kAttrKeyLength = 14;

/// RFC 7296 §3.10.1 Notify Message Types (errors < 16384, status >= 16384), plus later RFCs.
enum class NotifyType : std::uint16_t {
    // Errors
    kUnsupportedCriticalPayload = 1,
    kInvalidIkeSpi = 4,
    kInvalidMajorVersion = 5,
    kInvalidSyntax = 7,
    kInvalidMessageId = 9,
    kInvalidSpi = 11,
    kNoProposalChosen = 14,
    kInvalidKePayload = 17,
    kAuthenticationFailed = 24,
    kSinglePairRequired = 34,
    kNoAdditionalSas = 35,
    kInternalAddressFailure = 36,
    kFailedCpRequired = 37,
    kTsUnacceptable = 38,
    kInvalidSelectors = 39,
    kUnacceptableAddresses = 40,  // RFC 4555
    kUnexpectedNatDetected = 41,  // RFC 4555
    kUseAssignedHoa = 42,         // RFC 5026
    kTemporaryFailure = 43,       // RFC 7296
    kChildSaNotFound = 44,        // RFC 7296
    kInvalidGroupId = 45,         // G-IKEv2
    kAuthorizationFailed = 46,    // G-IKEv2
    kStateNotFound = 47,          // RFC 9370
    kTsMaxQueue = 48,             // RFC 9611 §5.2
    // Status
    kInitialContact = 16384,
    kSetWindowSize = 16385,
    kAdditionalTsPossible = 16386,
    kIpcompSupported = 16387,
    kNatDetectionSourceIp = 16388,
    kNatDetectionDestinationIp = 16389,
    kCookie = 16390,
    kUseTransportMode = 16391,
    kHttpCertLookupSupported = 16392,
    kRekeySa = 16393,
    kEspTfcPaddingNotSupported = 16394,
    kNonFirstFragmentsAlso = 16395,
    kMobikeSupported = 16396,
    kAdditionalIp4Address = 16397,
    kAdditionalIp6Address = 16398,
    kNoAdditionalAddresses = 16399,
    kUpdateSaAddresses = 16400,
    kCookie2 = 16401,
    kNoNatsAllowed = 16402,
    kAuthLifetime = 16403,
    kMultipleAuthSupported = 16404,
    kAnotherAuthFollows = 16405,
    kRedirectSupported = 16406,
    kRedirect = 16407,
    kRedirectedFrom = 16408,
    kTicketLtOpaque = 16409,
    kTicketRequest = 16410,
    kTicketAck = 16411,
    kTicketNack = 16412,
    kTicketOpaque = 16413,
    kLinkId = 16414,
    kUseWespMode = 16415,
    kRohcSupported = 16416,
    kEapOnlyAuthentication = 16417,
    kChildlessIkev2Supported = 16418,
    kQuickCrashDetection = 16419,
    kIkev2MessageIdSyncSupported = 16420,
    kIpsecReplayCounterSyncSupported = 16421,
    kIkev2MessageIdSync = 16422,
    kIpsecReplayCounterSync = 16423,
    kSecurePasswordMethods = 16424,
    kPskPersist = 16425,
    kPskConfirm = 16426,
    kErxSupported = 16427,
    kIfomCapability = 16428,
    kSenderRequestId = 16429,
    kIkev2FragmentationSupported = 16430,  // RFC 7383
    kSignatureHashAlgorithms = 16431,      // RFC 7427
    kCloneIkeSaSupported = 16432,
    kCloneIkeSa = 16433,
    kPuzzle = 16434,
    kUsePpk = 16435,
    kPpkIdentity = 16436,
    kNoPpkAuth = 16437,
    kIntermediateExchangeSupported = 16438,
    kIp4Allowed = 16439,
    kIp6Allowed = 16440,
    kAdditionalKeyExchange = 16441,
    kUseAggfrag = 16442,
    kSupportedAuthMethods = 16443,
    kSaResourceInfo = 16444,  // RFC 9611 §5.1
};

/// First status type; everything below is an error type (RFC 7296 §3.10.1).
inline constexpr std::uint16_t kFirstStatusNotify = 16384;
constexpr bool is_error(NotifyType t) noexcept {
    return static_cast<std::uint16_t>(t) < kFirstStatusNotify;
}

/// RFC 7296 §3.5 ID Type.
enum class IdType : std::uint8_t {
    kIpv4Addr = 1,
    kFqdn = 2,
    kRfc822Addr = 3,
    kIpv6Addr = 5,
    kDerAsn1Dn = 9,
    kDerAsn1Gn = 10,
    kKeyId = 11,
    kFcName = 12,
    kNull = 13,  // RFC 7619
};

/// RFC 7296 §3.8 Auth Method (and RFC 7427 Digital Signature = 14).
enum class AuthMethod : std::uint8_t {
    kRsaSig = 1,
    kSharedKeyMic = 2,
    kDssSig = 3,
    kEcdsaSha256P256 = 9,
    kEcdsaSha384P384 = 10,
    kEcdsaSha512P521 = 11,
    kGenericSecurePassword = 12,
    kNull = 13,
    kDigitalSignature = 14,
};

/// RFC 7296 §3.6 Certificate Encoding.
enum class CertEncoding : std::uint8_t {
    kPkcs7WrappedX509 = 1,
    kPgp = 2,
    kDnsSignedKey = 3,
    kX509Signature = 4,
    kKerberosToken = 6,
    kCrl = 7,
    kArl = 8,
    kSpki = 9,
    kX509Attribute = 10,
    kRawRsaKey = 11,
    kHashUrlX509Cert = 12,
    kHashUrlX509Bundle = 13,
    kOcspContent = 14,   // RFC 4806
    kRawPublicKey = 15,  // RFC 7670
};

/// RFC 7296 §3.13.1 Traffic Selector Type.
enum class TsType : std::uint8_t {
    kIpv4AddrRange = 7,
    kIpv6AddrRange = 8,
    kFcAddrRange = 9,  // RFC 4595
    kSecLabel = 10,    // RFC 9478
};

/// RFC 7296 §3.15 CFG Type.
enum class CfgType : std::uint8_t {
    kRequest = 1,
    kReply = 2,
    kSet = 3,
    kAck = 4,
};

/// RFC 3748 EAP Code.
enum class EapCode : std::uint8_t {
    kRequest = 1,
    kResponse = 2,
    kSuccess = 3,
    kFailure = 4,
};

/// RFC 7296 §3.1 header flags.
inline constexpr std::uint8_t kFlagInitiator = 0x08;
inline constexpr std::uint8_t kFlagVersion = 0x10;
inline constexpr std::uint8_t kFlagResponse = 0x20;

/// RFC 7296 §3.1: IKE header size; §3.2: generic payload header size.
inline constexpr std::size_t kIkeHeaderSize = 28;
inline constexpr std::size_t kPayloadHeaderSize = 4;

/// Nonce length bounds, RFC 7296 §3.9.
inline constexpr std::size_t kMinNonceSize = 16;
inline constexpr std::size_t kMaxNonceSize = 256;

}  // namespace ikeplex::wire
