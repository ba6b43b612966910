"""Decode X.509 certificates (DER) into the dict form of ssl's getpeercert().

Only the fields ssl reports are decoded: version, serial number, subject,
issuer, validity, subjectAltName, the OCSP and CA issuer addresses of
authorityInfoAccess, and the URIs of crlDistributionPoints. The strings
follow CPython 3.11's _ssl module with OpenSSL 3 (long attribute names,
"Jan  2 03:04:05 2030 GMT" times, upper-case hexadecimal serial numbers).
"""

import base64
import datetime
import re
import textwrap

PEM_HEADER = "-----BEGIN CERTIFICATE-----"
PEM_FOOTER = "-----END CERTIFICATE-----"

# DER tags used below.
_INTEGER = 0x02
_BIT_STRING = 0x03
_OCTET_STRING = 0x04
_OID = 0x06
_UTF8_STRING = 0x0C
_PRINTABLE_STRING = 0x13
_T61_STRING = 0x14
_IA5_STRING = 0x16
_UTC_TIME = 0x17
_GENERALIZED_TIME = 0x18
_UNIVERSAL_STRING = 0x1C
_BMP_STRING = 0x1E
_SEQUENCE = 0x30
_SET = 0x31

# OpenSSL's long names for the attribute types of distinguished names.
_ATTRIBUTE_NAMES = {
    "2.5.4.3": "commonName",
    "2.5.4.4": "surname",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "countryName",
    "2.5.4.7": "localityName",
    "2.5.4.8": "stateOrProvinceName",
    "2.5.4.9": "streetAddress",
    "2.5.4.10": "organizationName",
    "2.5.4.11": "organizationalUnitName",
    "2.5.4.12": "title",
    "2.5.4.13": "description",
    "2.5.4.15": "businessCategory",
    "2.5.4.17": "postalCode",
    "2.5.4.42": "givenName",
    "2.5.4.43": "initials",
    "2.5.4.44": "generationQualifier",
    "2.5.4.46": "dnQualifier",
    "2.5.4.65": "pseudonym",
    "2.5.4.97": "organizationIdentifier",
    "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.1": "userId",
    "0.9.2342.19200300.100.1.25": "domainComponent",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionLocalityName",
    "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionStateOrProvinceName",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionCountryName",
}

_SUBJECT_ALT_NAME = "2.5.29.17"
_CRL_DISTRIBUTION_POINTS = "2.5.29.31"
_AUTHORITY_INFO_ACCESS = "1.3.6.1.5.5.7.1.1"
_ACCESS_OCSP = "1.3.6.1.5.5.7.48.1"
_ACCESS_CA_ISSUERS = "1.3.6.1.5.5.7.48.2"

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class _Element:
    """One DER element: its tag byte and the bytes of its contents."""

    __slots__ = ("tag", "content")

    def __init__(self, tag, content):
        self.tag = tag
        self.content = content

    def children(self):
        return list(_read_elements(self.content))


def _read_element(data, offset):
    """Return (element, offset after it) for the element at `offset`."""
    if offset + 2 > len(data):
        raise ValueError("truncated DER element at offset %d" % offset)
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte DER tags are not supported (offset %d)" % offset)
    length = data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or offset + count > len(data):
            raise ValueError("invalid DER length at offset %d" % (offset - 1))
        length = int.from_bytes(data[offset:offset + count], "big")
        offset += count
    if offset + length > len(data):
        raise ValueError("DER element at offset %d runs past the end of the data" % offset)
    return _Element(tag, bytes(data[offset:offset + length])), offset + length


def _read_elements(data):
    offset = 0
    while offset < len(data):
        element, offset = _read_element(data, offset)
        yield element


def split_der_certificates(data):
    """Split concatenated DER certificates (ssl's cadata in binary form)."""
    certificates = []
    offset = 0
    while offset < len(data):
        start = offset
        element, offset = _read_element(data, offset)
        if element.tag != _SEQUENCE:
            raise ValueError("DER data at offset %d is not a certificate" % start)
        certificates.append(bytes(data[start:offset]))
    return certificates


def _decode_oid(content):
    if not content:
        raise ValueError("empty OBJECT IDENTIFIER")
    first = content[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in content[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(part) for part in parts)


def _decode_string(element):
    if element.tag == _BMP_STRING:
        return element.content.decode("utf-16-be", "replace")
    if element.tag == _UNIVERSAL_STRING:
        return element.content.decode("utf-32-be", "replace")
    if element.tag in (_T61_STRING,):
        return element.content.decode("latin-1")
    return element.content.decode("utf-8", "replace")


def _decode_name(element):
    """Return a Name as ssl does: a tuple of RDNs, each a tuple of (type, value)."""
    name = []
    for rdn in element.children():
        attributes = []
        for attribute in rdn.children():
            oid, value = attribute.children()[:2]
            dotted = _decode_oid(oid.content)
            attributes.append((_ATTRIBUTE_NAMES.get(dotted, dotted), _decode_string(value)))
        name.append(tuple(attributes))
    return tuple(name)


def _decode_time(element):
    text = element.content.decode("ascii")
    if element.tag == _UTC_TIME:
        year = int(text[0:2])
        text = ("19" if year >= 50 else "20") + text
    match = re.fullmatch(r"(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d+)?Z", text)
    if not match:
        raise ValueError("unsupported certificate time %r" % element.content)
    year, month, day, hour, minute, second = (int(group) for group in match.groups())
    return "%s %2d %02d:%02d:%02d %d GMT" % (_MONTHS[month - 1], day, hour, minute, second, year)


def _decode_serial(content):
    text = content.hex().upper()
    # OpenSSL drops the sign byte that DER adds before a high bit.
    while len(text) > 2 and text.startswith("00"):
        text = text[2:]
    return text


def _format_ip(content):
    if len(content) == 4:
        return "%d.%d.%d.%d" % tuple(content)
    if len(content) == 16:
        return ":".join("%X" % int.from_bytes(content[i:i + 2], "big") for i in range(0, 16, 2))
    return "<invalid>"


def _decode_general_name(element):
    """Return (type, value) of a GeneralName the way ssl names it."""
    kind = element.tag & 0x1F
    if kind == 1:
        return ("email", element.content.decode("ascii", "replace"))
    if kind == 2:
        return ("DNS", element.content.decode("ascii", "replace"))
    if kind == 4:
        (name,) = element.children()
        return ("DirName", _decode_name(name))
    if kind == 6:
        return ("URI", element.content.decode("ascii", "replace"))
    if kind == 7:
        return ("IP Address", _format_ip(element.content))
    if kind == 8:
        return ("Registered ID", _decode_oid(element.content))
    names = {0: "othername", 3: "X400Name", 5: "EdiPartyName"}
    return (names.get(kind, "unknown"), "<unsupported>")


def _decode_extensions(element, result):
    for extension in element.children()[0].children():
        parts = extension.children()
        oid = _decode_oid(parts[0].content)
        value = _read_element(parts[-1].content, 0)[0]
        if oid == _SUBJECT_ALT_NAME:
            result["subjectAltName"] = tuple(_decode_general_name(name) for name in value.children())
        elif oid == _AUTHORITY_INFO_ACCESS:
            _decode_authority_info(value, result)
        elif oid == _CRL_DISTRIBUTION_POINTS:
            _decode_crl_points(value, result)


def _decode_authority_info(value, result):
    ocsp, issuers = [], []
    for description in value.children():
        method, location = description.children()
        if location.tag & 0x1F != 6:
            continue
        uri = location.content.decode("ascii", "replace")
        method = _decode_oid(method.content)
        if method == _ACCESS_OCSP:
            ocsp.append(uri)
        elif method == _ACCESS_CA_ISSUERS:
            issuers.append(uri)
    if ocsp:
        result["OCSP"] = tuple(ocsp)
    if issuers:
        result["caIssuers"] = tuple(issuers)


def _decode_crl_points(value, result):
    uris = []
    for point in value.children():
        for field in point.children():
            if field.tag != 0xA0:  # distributionPoint [0]
                continue
            for names in field.children():
                if names.tag != 0xA0:  # fullName [0]
                    continue
                for name in names.children():
                    if name.tag & 0x1F == 6:
                        uris.append(name.content.decode("ascii", "replace"))
    if uris:
        result["crlDistributionPoints"] = tuple(uris)


def decode_certificate(der):
    """Return the getpeercert() dict of a DER certificate."""
    certificate = _read_element(der, 0)[0]
    fields = certificate.children()[0].children()
    version = 1
    if fields[0].tag == 0xA0:
        version = int.from_bytes(fields[0].children()[0].content, "big") + 1
        fields = fields[1:]
    serial, _signature, issuer, validity, subject = fields[:5]
    not_before, not_after = validity.children()
    result = {
        "subject": _decode_name(subject),
        "issuer": _decode_name(issuer),
        "version": version,
        "serialNumber": _decode_serial(serial.content),
        "notBefore": _decode_time(not_before),
        "notAfter": _decode_time(not_after),
    }
    for field in fields[6:]:
        if field.tag == 0xA3:
            _decode_extensions(field, result)
    return result


def DER_cert_to_PEM_cert(der_cert_bytes):
    """Return the PEM text of a DER certificate, as ssl.DER_cert_to_PEM_cert."""
    encoded = base64.standard_b64encode(der_cert_bytes).decode("ascii")
    return PEM_HEADER + "\n" + "\n".join(textwrap.wrap(encoded, 64)) + "\n" + PEM_FOOTER + "\n"


def PEM_cert_to_DER_cert(pem_cert_string):
    """Return the DER bytes of one PEM certificate, as ssl.PEM_cert_to_DER_cert."""
    text = pem_cert_string.strip()
    if not text.startswith(PEM_HEADER):
        raise ValueError("Invalid PEM encoding; must start with %s" % PEM_HEADER)
    if not text.endswith(PEM_FOOTER):
        raise ValueError("Invalid PEM encoding; must end with %s" % PEM_FOOTER)
    return base64.decodebytes(text[len(PEM_HEADER):-len(PEM_FOOTER)].encode("ascii"))


def pem_certificates(text):
    """Return the DER bytes of every certificate in a PEM text."""
    pattern = re.escape(PEM_HEADER) + r"(.*?)" + re.escape(PEM_FOOTER)
    return [base64.b64decode("".join(body.split())) for body in re.findall(pattern, text, re.S)]


def cert_time_to_seconds(cert_time):
    """Return the seconds since the epoch of a "Jan  5 09:34:43 2018 GMT" time."""
    parsed = datetime.datetime.strptime(cert_time, "%b %d %H:%M:%S %Y GMT")
    return int(parsed.replace(tzinfo=datetime.timezone.utc).timestamp())
