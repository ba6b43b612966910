#!/usr/bin/env python3
"""Fetch an HTTPS URL with http.client over schan and print the response.

  https_get.py https://localhost:8443/ --cafile root.pem

Without --cafile the operating system's root certificates are trusted. The
only schan-specific line is the import: the rest is what the same program
would do with the ssl module.
"""

import argparse
import http.client
import sys
import urllib.parse

import schan


def main():
    parser = argparse.ArgumentParser(description="Fetch an HTTPS URL through schan.")
    parser.add_argument("url", help="https:// URL to fetch")
    parser.add_argument("--cafile", help="PEM file with the CA certificates to trust instead of the system roots")
    parser.add_argument("--timeout", type=float, default=30, help="socket timeout in seconds (default 30)")
    options = parser.parse_args()

    url = urllib.parse.urlsplit(options.url)
    if url.scheme != "https" or not url.hostname:
        parser.error("the URL must start with https:// and name a host")

    context = schan.create_default_context(cafile=options.cafile)
    connection = http.client.HTTPSConnection(url.hostname, url.port or 443, context=context,
                                             timeout=options.timeout)
    try:
        connection.request("GET", url.path or "/")
        # Read the TLS parameters now: a response that ends the connection closes the socket.
        version, cipher = connection.sock.version(), connection.sock.cipher()[0]
        response = connection.getresponse()
        body = response.read()
    except schan.SSLCertVerificationError as error:
        print("certificate verification failed: %s" % error.verify_message, file=sys.stderr)
        return 1
    except (OSError, http.client.HTTPException) as error:
        print("request failed: %s" % error, file=sys.stderr)
        return 1
    finally:
        connection.close()

    print("%s %s over %s with %s (schan %s backend)" % (response.status, response.reason, version, cipher,
                                                        schan.BACKEND), file=sys.stderr)
    sys.stdout.buffer.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
