/**
 * `modelship sign` and `modelship verify`: model signatures in the OpenSSF model-signing format
 * (`model.sig`), so a team without Python signs and checks what the Python tool does.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import type { Command } from 'commander';
import { type SignaturePolicy, signModelPath, verifyModelPath } from '../signing/verify-model';
import { CliError, UsageError } from './errors';
import { mustExist } from './files';

type Out = (s: string) => void;

const list = (value: string, previous: string[] = []) => [
  ...previous,
  ...value.split(',').filter((s) => s !== ''),
];

export function registerSigning(program: Command, out: Out, done: (code: number) => void): void {
  program
    .command('sign')
    .summary('sign a model directory or file (writes model.sig)')
    .description(
      'Signs every file of a model directory (or one file) with an ECDSA private key, writing model.sig in the OpenSSF model-signing format.',
    )
    .argument('<model>', 'a model directory or file')
    .requiredOption('--key <file>', 'the private key, PEM (P-256, P-384 or P-521)')
    .option('--signature <file>', 'where to write the signature (default: model.sig in the model directory)')
    .option('--ignore-paths <paths>', 'paths not to sign, comma-separated (git files are never signed)', list)
    .action(async (path: string, values: { key: string; signature?: string; ignorePaths?: string[] }) => {
      await modelExists(path);
      await mustExist(values.key, '--key');
      const written = await signModelPath(path, {
        privateKey: await readFile(values.key, 'utf8'),
        output: values.signature,
        ignorePaths: values.ignorePaths,
      });
      const shown = relative(process.cwd(), written);
      out(`signed ${path}: ${shown.startsWith('..') || isAbsolute(shown) ? written : shown}`);
      done(0);
    });
  program
    .command('verify')
    .summary("check a model's signature and files")
    .description(
      "Checks a model directory (or file) against its model.sig: the signer (a public key, a certificate chain, or a keyless Sigstore identity) and every file's SHA-256.",
    )
    .argument('<model>', 'a model directory or file')
    .option('--key <file>', 'a trusted public key, PEM (repeatable)', (v: string, p: string[] = []) => [
      ...p,
      v,
    ])
    .option(
      '--identity <subject>',
      "keyless: the signer's email or URI; certificates: the leaf's subject or name",
    )
    .option('--issuer <url>', "keyless: the signer's OIDC issuer")
    .option(
      '--ca <file>',
      'a trusted CA certificate, PEM, for certificate-chain signatures (repeatable)',
      (v: string, p: string[] = []) => [...p, v],
    )
    .option('--trusted-root <file>', 'keyless: a Sigstore trusted_root.json (default: the public-good root)')
    .option('--signature <file>', 'the signature (default: model.sig in the model directory)')
    .option('--ignore-paths <paths>', 'paths not checked, comma-separated', list)
    .option('--json', 'print the verified files as JSON')
    .action(async (path: string, values: VerifyValues) => done(await verify(path, values, out)));
}

interface VerifyValues {
  key?: string[];
  identity?: string;
  issuer?: string;
  ca?: string[];
  trustedRoot?: string;
  signature?: string;
  ignorePaths?: string[];
  json?: boolean;
}

async function verify(path: string, values: VerifyValues, out: Out): Promise<number> {
  await modelExists(path);
  const read = async (file: string, what: string) => {
    await mustExist(file, what);
    return readFile(file, 'utf8');
  };
  const publicKeys =
    values.key === undefined ? undefined : await Promise.all(values.key.map((k) => read(k, '--key')));
  const certificateAuthorities =
    values.ca === undefined ? undefined : await Promise.all(values.ca.map((c) => read(c, '--ca')));
  const trustedRoot =
    values.trustedRoot === undefined ? undefined : await read(values.trustedRoot, '--trusted-root');
  const keyless = values.issuer !== undefined || trustedRoot !== undefined;
  if (publicKeys === undefined && certificateAuthorities === undefined && !keyless)
    throw new UsageError(
      'say whom to trust: --key <public key>, --ca <CA certificate>, or --identity with --issuer (keyless)',
    );
  if (keyless && (values.identity === undefined || values.issuer === undefined))
    throw new UsageError('keyless verification needs both --identity and --issuer');
  const identity =
    certificateAuthorities === undefined && !keyless
      ? undefined
      : { subject: values.identity, issuer: values.issuer, certificateAuthorities, trustedRoot };
  const policy: SignaturePolicy = {
    publicKeys,
    identity,
    path: values.signature,
    ignorePaths: values.ignorePaths,
  };
  const verified = await verifyModelPath(path, policy);
  const { resources } = verified.manifest;
  if (values.json === true) {
    out(
      JSON.stringify(
        {
          signer: verified.signer,
          predicateType: verified.manifest.predicateType,
          resources: resources.map(({ name, digest }) => ({ name, digest })),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  out(
    `verified ${path}: ${resources.length} file${resources.length === 1 ? '' : 's'} signed by ${verified.signer}`,
  );
  return 0;
}

/** A model is a directory or a file: either will do, a missing path is FILE_NOT_FOUND. */
async function modelExists(path: string): Promise<void> {
  const found = await stat(path).then(
    () => true,
    () => false,
  );
  if (!found) throw new CliError('FILE_NOT_FOUND', `the model '${path}' does not exist`);
}
