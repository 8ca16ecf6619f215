"""JWE (A256KW + A256GCM) made by another implementation, for encryption.test.ts.

Run with /usr/bin/python3 (Debian's python3-cryptography; jwcrypto, which KServe's tests use,
builds on it and serializes the same way). Writes jwe.golden.json: a TEST-ONLY key, a plaintext,
and JWEs of it in the compact, flattened JSON and general JSON (two recipients) serializations.

  /usr/bin/python3 make_jwe_golden.py                  # writes jwe.golden.json
  /usr/bin/python3 make_jwe_golden.py --check F KEYHEX  # decrypts a compact JWE made by Modelship
"""
import base64
import json
import os
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def compact(plain: bytes, kek: bytes, header: dict) -> str:
    protected = b64u(json.dumps(header, separators=(",", ":")).encode())
    cek, iv = os.urandom(32), os.urandom(12)
    sealed = AESGCM(cek).encrypt(iv, plain, protected.encode())
    return ".".join([protected, b64u(aes_key_wrap(kek, cek)), b64u(iv), b64u(sealed[:-16]), b64u(sealed[-16:])])


def check(path: str, key_hex: str) -> None:
    p, ek, iv, ct, tag = open(path, "rb").read().decode().strip().split(".")
    cek = aes_key_unwrap(bytes.fromhex(key_hex), unb64u(ek))
    plain = AESGCM(cek).decrypt(unb64u(iv), unb64u(ct) + unb64u(tag), p.encode())
    print(f"decrypted {len(plain)} bytes; header {unb64u(p).decode()}")


def main() -> None:
    kek = bytes(range(32))  # TEST-ONLY key
    other = bytes(range(100, 132))  # TEST-ONLY key of the first of two recipients
    plain = b"\x08\x07\x12\x0cmodelship-test weights " + bytes(range(256)) * 4
    cek, iv = os.urandom(32), os.urandom(12)
    protected = b64u(json.dumps({"enc": "A256GCM"}, separators=(",", ":")).encode())
    aad = b64u(b"model.onnx")
    sealed = AESGCM(cek).encrypt(iv, plain, f"{protected}.{aad}".encode())
    general = {
        "protected": protected,
        "unprotected": {"cty": "application/octet-stream"},
        "recipients": [
            {"header": {"alg": "A256KW", "kid": "old"}, "encrypted_key": b64u(aes_key_wrap(other, cek))},
            {"header": {"alg": "A256KW", "kid": "current"}, "encrypted_key": b64u(aes_key_wrap(kek, cek))},
        ],
        "aad": aad,
        "iv": b64u(iv),
        "ciphertext": b64u(sealed[:-16]),
        "tag": b64u(sealed[-16:]),
    }
    p, ek, iv2, ct, tag = compact(plain, kek, {"alg": "A256KW", "enc": "A256GCM", "kid": "k1"}).split(".")
    flattened = {"protected": p, "encrypted_key": ek, "iv": iv2, "ciphertext": ct, "tag": tag}
    out = {
        "note": "made by make_jwe_golden.py with python3-cryptography; the keys are test-only",
        "keyHex": kek.hex(),
        "otherKeyHex": other.hex(),
        "plaintext": base64.b64encode(plain).decode(),
        # What jwcrypto writes for KServe: {"alg":"A256KW","enc":"A256GCM"}, a final newline.
        "compact": compact(plain, kek, {"alg": "A256KW", "enc": "A256GCM"}) + "\n",
        "compactKid": compact(plain, kek, {"alg": "A256KW", "enc": "A256GCM", "kid": "k1"}),
        "flattened": flattened,
        "general": general,
    }
    with open(os.path.join(os.path.dirname(__file__), "jwe.golden.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        check(sys.argv[2], sys.argv[3])
    else:
        main()
