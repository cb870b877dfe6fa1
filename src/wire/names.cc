#include "wire/names.h"

#include <span>

namespace ikeplex::wire {
namespace {

struct Name {
    std::uint32_t value;
    const char* full;
    const char* brief;  // strongSwan's short name where it has one, else same as full
};

const Name* find(std::span<const Name> table, std::uint32_t value) noexcept {
    for (const Name& n : table) {
        if (n.value == value) {
            return &n;
        }
    }
    return nullptr;
}

std::string full_or(std::span<const Name> table, std::uint32_t value, const char* kind) {
    if (const Name* n = find(table, value)) {
        return n->full;
    }
    return fmt::format("{}({})", kind, value);
}

std::string brief_or(std::span<const Name> table, std::uint32_t value, const char* kind) {
    if (const Name* n = find(table, value)) {
        return n->brief;
    }
    return fmt::format("{}({})", kind, value);
}

constexpr Name kExchangeNames[] = {
        {34, "IKE_SA_INIT", "IKE_SA_INIT"},
        {35, "IKE_AUTH", "IKE_AUTH"},
        {36, "CREATE_CHILD_SA", "CREATE_CHILD_SA"},
        {37, "INFORMATIONAL", "INFORMATIONAL"},
        {38, "IKE_SESSION_RESUME", "IKE_SESSION_RESUME"},
        {39, "GSA_AUTH", "GSA_AUTH"},
        {40, "GSA_REGISTRATION", "GSA_REGISTRATION"},
        {41, "GSA_REKEY", "GSA_REKEY"},
        {43, "IKE_INTERMEDIATE", "IKE_INTERMEDIATE"},
        {44, "IKE_FOLLOWUP_KE", "IKE_FOLLOWUP_KE"},
};

constexpr Name kPayloadNames[] = {
        {0, "NO_NEXT_PAYLOAD", "NONE"},
        {33, "SECURITY_ASSOCIATION", "SA"},
        {34, "KEY_EXCHANGE", "KE"},
        {35, "ID_INITIATOR", "IDi"},
        {36, "ID_RESPONDER", "IDr"},
        {37, "CERTIFICATE", "CERT"},
        {38, "CERTIFICATE_REQUEST", "CERTREQ"},
        {39, "AUTHENTICATION", "AUTH"},
        {40, "NONCE", "No"},
        {41, "NOTIFY", "N"},
        {42, "DELETE", "D"},
        {43, "VENDOR_ID", "V"},
        {44, "TS_INITIATOR", "TSi"},
        {45, "TS_RESPONDER", "TSr"},
        {46, "ENCRYPTED", "E"},
        {47, "CONFIGURATION", "CP"},
        {48, "EXTENSIBLE_AUTHENTICATION", "EAP"},
        {49, "GENERIC_SECURE_PASSWORD_METHOD", "GSPM"},
        {50, "GROUP_ID", "IDg"},
        {51, "GROUP_SECURITY_ASSOCIATION", "GSA"},
        {52, "KEY_DOWNLOAD", "KD"},
        {53, "ENCRYPTED_FRAGMENT", "EF"},
        {54, "PUZZLE_SOLUTION", "PS"},
};

constexpr Name kProtocolNames[] = {
        {0, "NONE", "NONE"},
        {1, "IKE", "IKE"},
        {2, "AH", "AH"},
        {3, "ESP", "ESP"},
};

constexpr Name kTransformTypeNames[] = {
        {1, "ENCRYPTION_ALGORITHM", "ENCR"},         {2, "PSEUDO_RANDOM_FUNCTION", "PRF"},
        {3, "INTEGRITY_ALGORITHM", "INTEG"},         {4, "KEY_EXCHANGE_METHOD", "KE"},
        {5, "EXTENDED_SEQUENCE_NUMBERS", "ESN"},     {6, "ADDITIONAL_KEY_EXCHANGE_1", "ADDKE1"},
        {7, "ADDITIONAL_KEY_EXCHANGE_2", "ADDKE2"},  {8, "ADDITIONAL_KEY_EXCHANGE_3", "ADDKE3"},
        {9, "ADDITIONAL_KEY_EXCHANGE_4", "ADDKE4"},  {10, "ADDITIONAL_KEY_EXCHANGE_5", "ADDKE5"},
        {11, "ADDITIONAL_KEY_EXCHANGE_6", "ADDKE6"}, {12, "ADDITIONAL_KEY_EXCHANGE_7", "ADDKE7"},
};

constexpr Name kEncrNames[] = {
        {1, "DES_IV64", "DES_IV64"},
        {2, "DES_CBC", "DES_CBC"},
        {3, "3DES_CBC", "3DES_CBC"},
        {4, "RC5_CBC", "RC5_CBC"},
        {5, "IDEA_CBC", "IDEA_CBC"},
        {6, "CAST_CBC", "CAST_CBC"},
        {7, "BLOWFISH_CBC", "BLOWFISH_CBC"},
        {8, "3IDEA", "3IDEA"},
        {9, "DES_IV32", "DES_IV32"},
        {11, "NULL", "NULL"},
        {12, "AES_CBC", "AES_CBC"},
        {13, "AES_CTR", "AES_CTR"},
        {14, "AES_CCM_8", "AES_CCM_8"},
        {15, "AES_CCM_12", "AES_CCM_12"},
        {16, "AES_CCM_16", "AES_CCM_16"},
        {18, "AES_GCM_8", "AES_GCM_8"},
        {19, "AES_GCM_12", "AES_GCM_12"},
        {20, "AES_GCM_16", "AES_GCM_16"},
        {21, "NULL_AES_GMAC", "NULL_AES_GMAC"},
        {23, "CAMELLIA_CBC", "CAMELLIA_CBC"},
        {24, "CAMELLIA_CTR", "CAMELLIA_CTR"},
        {25, "CAMELLIA_CCM_8", "CAMELLIA_CCM_8"},
        {26, "CAMELLIA_CCM_12", "CAMELLIA_CCM_12"},
        {27, "CAMELLIA_CCM_16", "CAMELLIA_CCM_16"},
        {28, "CHACHA20_POLY1305", "CHACHA20_POLY1305"},
};

constexpr Name kPrfNames[] = {
        {1, "PRF_HMAC_MD5", "PRF_HMAC_MD5"},
        {2, "PRF_HMAC_SHA1", "PRF_HMAC_SHA1"},
        {3, "PRF_HMAC_TIGER", "PRF_HMAC_TIGER"},
        {4, "PRF_AES128_XCBC", "PRF_AES128_XCBC"},
        {5, "PRF_HMAC_SHA2_256", "PRF_HMAC_SHA2_256"},
        {6, "PRF_HMAC_SHA2_384", "PRF_HMAC_SHA2_384"},
        {7, "PRF_HMAC_SHA2_512", "PRF_HMAC_SHA2_512"},
        {8, "PRF_AES128_CMAC", "PRF_AES128_CMAC"},
};

constexpr Name kIntegNames[] = {
        {0, "NONE", "NONE"},
        {1, "HMAC_MD5_96", "HMAC_MD5_96"},
        {2, "HMAC_SHA1_96", "HMAC_SHA1_96"},
        {3, "DES_MAC", "DES_MAC"},
        {4, "KPDK_MD5", "KPDK_MD5"},
        {5, "AES_XCBC_96", "AES_XCBC_96"},
        {6, "HMAC_MD5_128", "HMAC_MD5_128"},
        {7, "HMAC_SHA1_160", "HMAC_SHA1_160"},
        {8, "AES_CMAC_96", "AES_CMAC_96"},
        {9, "AES_128_GMAC", "AES_128_GMAC"},
        {10, "AES_192_GMAC", "AES_192_GMAC"},
        {11, "AES_256_GMAC", "AES_256_GMAC"},
        {12, "HMAC_SHA2_256_128", "HMAC_SHA2_256_128"},
        {13, "HMAC_SHA2_384_192", "HMAC_SHA2_384_192"},
        {14, "HMAC_SHA2_512_256", "HMAC_SHA2_512_256"},
};

constexpr Name kKeNames[] = {
        {0, "KE_NONE", "KE_NONE"},
        {1, "MODP_768", "MODP_768"},
        {2, "MODP_1024", "MODP_1024"},
        {5, "MODP_1536", "MODP_1536"},
        {14, "MODP_2048", "MODP_2048"},
        {15, "MODP_3072", "MODP_3072"},
        {16, "MODP_4096", "MODP_4096"},
        {17, "MODP_6144", "MODP_6144"},
        {18, "MODP_8192", "MODP_8192"},
        {19, "ECP_256", "ECP_256"},
        {20, "ECP_384", "ECP_384"},
        {21, "ECP_521", "ECP_521"},
        {22, "MODP_1024_160", "MODP_1024_160"},
        {23, "MODP_2048_224", "MODP_2048_224"},
        {24, "MODP_2048_256", "MODP_2048_256"},
        {25, "ECP_192", "ECP_192"},
        {26, "ECP_224", "ECP_224"},
        {27, "ECP_224_BP", "ECP_224_BP"},
        {28, "ECP_256_BP", "ECP_256_BP"},
        {29, "ECP_384_BP", "ECP_384_BP"},
        {30, "ECP_512_BP", "ECP_512_BP"},
        {31, "CURVE_25519", "CURVE_25519"},
        {32, "CURVE_448", "CURVE_448"},
        {35, "ML_KEM_512", "ML_KEM_512"},
        {36, "ML_KEM_768", "ML_KEM_768"},
        {37, "ML_KEM_1024", "ML_KEM_1024"},
};

constexpr Name kEsnNames[] = {
        {0, "NO_EXT_SEQ", "NO_EXT_SEQ"},
        {1, "EXT_SEQ", "EXT_SEQ"},
};

constexpr Name kNotifyNames[] = {
        {1, "UNSUPPORTED_CRITICAL_PAYLOAD", "CRIT"},
        {4, "INVALID_IKE_SPI", "INVAL_IKE_SPI"},
        {5, "INVALID_MAJOR_VERSION", "INVAL_MAJOR"},
        {7, "INVALID_SYNTAX", "INVAL_SYN"},
        {9, "INVALID_MESSAGE_ID", "INVAL_MID"},
        {11, "INVALID_SPI", "INVAL_SPI"},
        {14, "NO_PROPOSAL_CHOSEN", "NO_PROP"},
        {17, "INVALID_KE_PAYLOAD", "INVAL_KE"},
        {24, "AUTHENTICATION_FAILED", "AUTH_FAILED"},
        {34, "SINGLE_PAIR_REQUIRED", "SINGLE_PAIR"},
        {35, "NO_ADDITIONAL_SAS", "NO_ADD_SAS"},
        {36, "INTERNAL_ADDRESS_FAILURE", "INT_ADDR_FAIL"},
        {37, "FAILED_CP_REQUIRED", "FAIL_CP_REQ"},
        {38, "TS_UNACCEPTABLE", "TS_UNACCEPT"},
        {39, "INVALID_SELECTORS", "INVAL_SEL"},
        {40, "UNACCEPTABLE_ADDRESSES", "UNACCEPT_ADDR"},
        {41, "UNEXPECTED_NAT_DETECTED", "UNEXPECT_NAT"},
        {42, "USE_ASSIGNED_HoA", "ASSIGNED_HoA"},
        {43, "TEMPORARY_FAILURE", "TEMP_FAIL"},
        {44, "CHILD_SA_NOT_FOUND", "NO_CHILD_SA"},
        {45, "INVALID_GROUP_ID", "INVAL_GROUP_ID"},
        {46, "AUTHORIZATION_FAILED", "AUTHZ_FAILED"},
        {47, "STATE_NOT_FOUND", "STATE_NOT_FOUND"},
        {48, "TS_MAX_QUEUE", "TS_MAX_QUEUE"},
        {16384, "INITIAL_CONTACT", "INIT_CONTACT"},
        {16385, "SET_WINDOW_SIZE", "SET_WINSIZE"},
        {16386, "ADDITIONAL_TS_POSSIBLE", "ADD_TS_POSS"},
        {16387, "IPCOMP_SUPPORTED", "IPCOMP_SUP"},
        {16388, "NAT_DETECTION_SOURCE_IP", "NATD_S_IP"},
        {16389, "NAT_DETECTION_DESTINATION_IP", "NATD_D_IP"},
        {16390, "COOKIE", "COOKIE"},
        {16391, "USE_TRANSPORT_MODE", "USE_TRANSP"},
        {16392, "HTTP_CERT_LOOKUP_SUPPORTED", "HTTP_CERT_LOOK"},
        {16393, "REKEY_SA", "REKEY_SA"},
        {16394, "ESP_TFC_PADDING_NOT_SUPPORTED", "ESP_TFC_PAD_N"},
        {16395, "NON_FIRST_FRAGMENTS_ALSO", "NON_FIRST_FRAG"},
        {16396, "MOBIKE_SUPPORTED", "MOBIKE_SUP"},
        {16397, "ADDITIONAL_IP4_ADDRESS", "ADD_4_ADDR"},
        {16398, "ADDITIONAL_IP6_ADDRESS", "ADD_6_ADDR"},
        {16399, "NO_ADDITIONAL_ADDRESSES", "NO_ADD_ADDR"},
        {16400, "UPDATE_SA_ADDRESSES", "UPD_SA_ADDR"},
        {16401, "COOKIE2", "COOKIE2"},
        {16402, "NO_NATS_ALLOWED", "NO_NATS"},
        {16403, "AUTH_LIFETIME", "AUTH_LFT"},
        {16404, "MULTIPLE_AUTH_SUPPORTED", "MULT_AUTH"},
        {16405, "ANOTHER_AUTH_FOLLOWS", "AUTH_FOLLOWS"},
        {16406, "REDIRECT_SUPPORTED", "REDIR_SUP"},
        {16407, "REDIRECT", "REDIR"},
        {16408, "REDIRECTED_FROM", "REDIR_FROM"},
        {16409, "TICKET_LT_OPAQUE", "TKT_LT_OPAK"},
        {16410, "TICKET_REQUEST", "TKT_REQ"},
        {16411, "TICKET_ACK", "TKT_ACK"},
        {16412, "TICKET_NACK", "TKT_NACK"},
        {16413, "TICKET_OPAQUE", "TKT_OPAK"},
        {16414, "LINK_ID", "LINK_ID"},
        {16415, "USE_WESP_MODE", "WESP_MODE"},
        {16416, "ROHC_SUPPORTED", "ROHC_SUP"},
        {16417, "EAP_ONLY_AUTHENTICATION", "EAP_ONLY"},
        {16418, "CHILDLESS_IKEV2_SUPPORTED", "CHDLESS_SUP"},
        {16419, "QUICK_CRASH_DETECTION", "CRASH_DET"},
        {16420, "IKEV2_MESSAGE_ID_SYNC_SUPPORTED", "MSG_ID_SYN_SUP"},
        {16421, "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED", "RPL_CTR_SYN_SUP"},
        {16422, "IKEV2_MESSAGE_ID_SYNC", "MSG_ID_SYN"},
        {16423, "IPSEC_REPLAY_COUNTER_SYNC", "RPL_CTR_SYN"},
        {16424, "SECURE_PASSWORD_METHODS", "SEC_PASSWD"},
        {16425, "PSK_PERSIST", "PSK_PST"},
        {16426, "PSK_CONFIRM", "PSK_CFM"},
        {16427, "ERX_SUPPORTED", "ERX_SUP"},
        {16428, "IFOM_CAPABILITY", "IFOM_CAP"},
        {16429, "SENDER_REQUEST_ID", "SENDER_REQ_ID"},
        {16430, "IKEV2_FRAGMENTATION_SUPPORTED", "FRAG_SUP"},
        {16431, "SIGNATURE_HASH_ALGORITHMS", "HASH_ALG"},
        {16432, "CLONE_IKE_SA_SUPPORTED", "CLONE_SUP"},
        {16433, "CLONE_IKE_SA", "CLONE"},
        {16434, "PUZZLE", "PUZZLE"},
        {16435, "USE_PPK", "USE_PPK"},
        {16436, "PPK_IDENTITY", "PPK_ID"},
        {16437, "NO_PPK_AUTH", "NO_PPK"},
        {16438, "INTERMEDIATE_EXCHANGE_SUPPORTED", "IKE_INT_SUP"},
        {16439, "IP4_ALLOWED", "IP4_ALLOWED"},
        {16440, "IP6_ALLOWED", "IP6_ALLOWED"},
        {16441, "ADDITIONAL_KEY_EXCHANGE", "ADD_KE"},
        {16442, "USE_AGGFRAG", "USE_AGGFRAG"},
        {16443, "SUPPORTED_AUTH_METHODS", "AUTH_METHODS"},
        {16444, "SA_RESOURCE_INFO", "RES_INFO"},
};

constexpr Name kIdNames[] = {
        {1, "ID_IPV4_ADDR", "ID_IPV4_ADDR"},
        {2, "ID_FQDN", "ID_FQDN"},
        {3, "ID_RFC822_ADDR", "ID_RFC822_ADDR"},
        {5, "ID_IPV6_ADDR", "ID_IPV6_ADDR"},
        {9, "ID_DER_ASN1_DN", "ID_DER_ASN1_DN"},
        {10, "ID_DER_ASN1_GN", "ID_DER_ASN1_GN"},
        {11, "ID_KEY_ID", "ID_KEY_ID"},
        {12, "ID_FC_NAME", "ID_FC_NAME"},
        {13, "ID_NULL", "ID_NULL"},
};

constexpr Name kAuthNames[] = {
        {1, "RSA_DIGITAL_SIGNATURE", "RSA_SIG"}, {2, "SHARED_KEY_MESSAGE_INTEGRITY_CODE", "PSK"},
        {3, "DSS_DIGITAL_SIGNATURE", "DSS_SIG"}, {9, "ECDSA_SHA256_P256", "ECDSA_256"},
        {10, "ECDSA_SHA384_P384", "ECDSA_384"},  {11, "ECDSA_SHA512_P521", "ECDSA_521"},
        {12, "GENERIC_SECURE_PASSWORD", "GSPM"}, {13, "NULL_AUTHENTICATION", "NULL"},
        {14, "DIGITAL_SIGNATURE", "DS"},
};

constexpr Name kCertNames[] = {
        {1, "PKCS7_WRAPPED_X509", "PKCS7"},
        {2, "PGP_CERTIFICATE", "PGP"},
        {3, "DNS_SIGNED_KEY", "DNS"},
        {4, "X509_CERTIFICATE_SIGNATURE", "X509"},
        {6, "KERBEROS_TOKEN", "KERBEROS"},
        {7, "CERTIFICATE_REVOCATION_LIST", "CRL"},
        {8, "AUTHORITY_REVOCATION_LIST", "ARL"},
        {9, "SPKI_CERTIFICATE", "SPKI"},
        {10, "X509_CERTIFICATE_ATTRIBUTE", "X509_ATTR"},
        {11, "RAW_RSA_KEY", "RAW_RSA"},
        {12, "HASH_AND_URL_X509_CERTIFICATE", "HASH_URL_CERT"},
        {13, "HASH_AND_URL_X509_BUNDLE", "HASH_URL_BUNDLE"},
        {14, "OCSP_CONTENT", "OCSP"},
        {15, "RAW_PUBLIC_KEY", "RAW_PUBKEY"},
};

constexpr Name kTsNames[] = {
        {7, "TS_IPV4_ADDR_RANGE", "TS_IPV4"},
        {8, "TS_IPV6_ADDR_RANGE", "TS_IPV6"},
        {9, "TS_FC_ADDR_RANGE", "TS_FC"},
        {10, "TS_SECLABEL", "TS_SECLABEL"},
};

constexpr Name kCfgNames[] = {
        {1, "CFG_REQUEST", "CPRQ"},
        {2, "CFG_REPLY", "CPRP"},
        {3, "CFG_SET", "CPS"},
        {4, "CFG_ACK", "CPA"},
};

constexpr Name kEapCodeNames[] = {
        {1, "EAP_REQUEST", "REQ"},
        {2, "EAP_RESPONSE", "RES"},
        {3, "EAP_SUCCESS", "SUCC"},
        {4, "EAP_FAILURE", "FAIL"},
};

constexpr Name kHashNames[] = {
        {1, "SHA1", "SHA1"},         {2, "SHA2_256", "SHA2_256"}, {3, "SHA2_384", "SHA2_384"},
        {4, "SHA2_512", "SHA2_512"}, {5, "IDENTITY", "IDENTITY"},
};

constexpr Name kConfigAttrNames[] = {
        {1, "INTERNAL_IP4_ADDRESS", "ADDR"},
        {2, "INTERNAL_IP4_NETMASK", "MASK"},
        {3, "INTERNAL_IP4_DNS", "DNS"},
        {4, "INTERNAL_IP4_NBNS", "NBNS"},
        {5, "INTERNAL_ADDRESS_EXPIRY", "EXP"},
        {6, "INTERNAL_IP4_DHCP", "DHCP"},
        {7, "APPLICATION_VERSION", "VER"},
        {8, "INTERNAL_IP6_ADDRESS", "ADDR6"},
        {9, "INTERNAL_IP6_NETMASK", "MASK6"},
        {10, "INTERNAL_IP6_DNS", "DNS6"},
        {11, "INTERNAL_IP6_NBNS", "NBNS6"},
        {12, "INTERNAL_IP6_DHCP", "DHCP6"},
        {13, "INTERNAL_IP4_SUBNET", "SUBNET"},
        {14, "SUPPORTED_ATTRIBUTES", "SUP"},
        {15, "INTERNAL_IP6_SUBNET", "SUBNET6"},
        {16, "MIP6_HOME_PREFIX", "MIP6HPFX"},
        {17, "INTERNAL_IP6_LINK", "LINK6"},
        {18, "INTERNAL_IP6_PREFIX", "PFX6"},
        {19, "HOME_AGENT_ADDRESS", "HOA"},
        {20, "P_CSCF_IP4_ADDRESS", "PCSCF4"},
        {21, "P_CSCF_IP6_ADDRESS", "PCSCF6"},
        {22, "FTT_KAT", "FTTKAT"},
        {23, "EXTERNAL_SOURCE_IP4_NAT_INFO", "EXTSRC4"},
        {24, "TIMEOUT_PERIOD_FOR_LIVENESS_CHECK", "LIVENESS"},
        {25, "INTERNAL_DNS_DOMAIN", "DNSDOM"},
        {26, "INTERNAL_DNSSEC_TA", "DNSSEC_TA"},
};

constexpr Name kEapTypeNames[] = {
        {1, "ID", "ID"},    {2, "NTF", "NTF"},    {3, "NAK", "NAK"},
        {4, "MD5", "MD5"},  {5, "OTP", "OTP"},    {6, "GTC", "GTC"},
        {13, "TLS", "TLS"}, {18, "SIM", "SIM"},   {21, "TTLS", "TTLS"},
        {23, "AKA", "AKA"}, {25, "PEAP", "PEAP"}, {26, "MSCHAPV2", "MSCHAPV2"},
        {38, "TNC", "TNC"}, {50, "AKA'", "AKA'"}, {254, "EXP", "EXP"},
        {255, "XP", "XP"},
};

std::string notify_fallback(std::uint16_t v) {
    if (v < 8192) {
        return fmt::format("ERROR_TYPE({})", v);
    }
    if (v < kFirstStatusNotify) {
        return fmt::format("PRIVATE_ERROR_TYPE({})", v);
    }
    if (v < 40960) {
        return fmt::format("STATUS_TYPE({})", v);
    }
    return fmt::format("PRIVATE_STATUS_TYPE({})", v);
}

template <class E>
constexpr std::uint32_t num(E v) noexcept {
    return static_cast<std::uint32_t>(v);
}

}  // namespace

std::string to_string(ExchangeType v) {
    return full_or(kExchangeNames, num(v), "EXCHANGE_TYPE");
}
std::string to_string(PayloadType v) {
    return full_or(kPayloadNames, num(v), "PAYLOAD_TYPE");
}
std::string to_string(ProtocolId v) {
    return full_or(kProtocolNames, num(v), "PROTOCOL");
}
std::string to_string(TransformType v) {
    return full_or(kTransformTypeNames, num(v), "TRANSFORM_TYPE");
}
std::string to_string(NotifyType v) {
    if (const Name* n = find(kNotifyNames, num(v))) {
        return n->full;
    }
    return notify_fallback(static_cast<std::uint16_t>(v));
}
std::string to_string(IdType v) {
    return full_or(kIdNames, num(v), "ID_TYPE");
}
std::string to_string(AuthMethod v) {
    return full_or(kAuthNames, num(v), "AUTH_METHOD");
}
std::string to_string(CertEncoding v) {
    return full_or(kCertNames, num(v), "CERT_ENCODING");
}
std::string to_string(TsType v) {
    return full_or(kTsNames, num(v), "TS_TYPE");
}
std::string to_string(CfgType v) {
    return full_or(kCfgNames, num(v), "CFG_TYPE");
}
std::string to_string(EapCode v) {
    return full_or(kEapCodeNames, num(v), "EAP_CODE");
}

std::string short_name(PayloadType v) {
    return brief_or(kPayloadNames, num(v), "PAYLOAD_TYPE");
}
std::string short_name(NotifyType v) {
    if (const Name* n = find(kNotifyNames, num(v))) {
        return n->brief;
    }
    return notify_fallback(static_cast<std::uint16_t>(v));
}

std::string short_name(CfgType v) {
    return brief_or(kCfgNames, num(v), "CFG_TYPE");
}
std::string short_name(EapCode v) {
    return brief_or(kEapCodeNames, num(v), "EAP_CODE");
}

std::string transform_name(TransformType type, std::uint16_t id) {
    switch (type) {
        case TransformType::kEncr:
            return full_or(kEncrNames, id, "ENCR");
        case TransformType::kPrf:
            return full_or(kPrfNames, id, "PRF");
        case TransformType::kInteg:
            return full_or(kIntegNames, id, "INTEG");
        case TransformType::kEsn:
            return full_or(kEsnNames, id, "ESN");
        default:
            break;
    }
    if (num(type) >= num(TransformType::kKe) && num(type) <= num(TransformType::kAddKe7)) {
        return full_or(kKeNames, id, "KE");
    }
    return fmt::format("{}({})", to_string(type), id);
}

std::string hash_algorithm_name(std::uint16_t id) {
    return full_or(kHashNames, id, "HASH_ALGORITHM");
}

std::string config_attribute_name(std::uint16_t type) {
    return full_or(kConfigAttrNames, type, "CONFIG_ATTRIBUTE");
}
std::string config_attribute_short_name(std::uint16_t type) {
    return brief_or(kConfigAttrNames, type, "ATTR");
}
std::string eap_type_short_name(std::uint8_t type) {
    return brief_or(kEapTypeNames, type, "EAP");
}

}  // namespace ikeplex::wire
