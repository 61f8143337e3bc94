/**
 * A self-signed certificate for `localhost`, made at test time with
 * Debian's `openssl`, and the hash Chromium needs to trust its key in one
 * browser only (`--ignore-certificate-errors-spki-list`).
 *
 * @module
 */

import { join } from "node:path";

/** A certificate and key on disk, and what trusting them takes. */
export interface TestCertificate {
  /** The PEM certificate's path. */
  certPath: string;
  /** The PEM private key's path. */
  keyPath: string;
  /** The certificate, PEM. */
  certPem: string;
  /** Base64 SHA-256 of the certificate's public key (its SPKI). */
  spkiHash: string;
}

/** Runs `openssl` with `args`, `input` on its standard input. */
async function openssl(
  args: string[],
  input?: Uint8Array,
): Promise<Uint8Array> {
  const child = new Deno.Command("openssl", {
    args,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(input);
    await writer.close();
  }
  const { success, stdout, stderr } = await child.output();
  if (!success) {
    throw new Error(
      `openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`,
    );
  }
  return stdout;
}

/** Makes a one-day certificate for localhost and 127.0.0.1 in `dir`. */
export async function makeCertificate(dir: string): Promise<TestCertificate> {
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    // A server's own certificate, not an authority's: TLS clients insist.
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-addext",
    "extendedKeyUsage=serverAuth",
    "-keyout",
    keyPath,
    "-out",
    certPath,
  ]);
  const publicKey = await openssl([
    "x509",
    "-in",
    certPath,
    "-noout",
    "-pubkey",
  ]);
  const der = await openssl(["pkey", "-pubin", "-outform", "DER"], publicKey);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new Uint8Array(der)),
  );
  return {
    certPath,
    keyPath,
    certPem: await Deno.readTextFile(certPath),
    spkiHash: btoa(String.fromCharCode(...digest)),
  };
}
