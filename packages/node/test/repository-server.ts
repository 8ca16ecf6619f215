/** A model repository directory served on a port the OS picks, with its pipelines and explanation backgrounds. */
import {
  createServer,
  Deployer,
  FileSystemRepository,
  type ModelshipServer,
  type ServerOptions,
} from '@modelship/node';

/**
 * Serves `root` (a repository laid out by the test) on 127.0.0.1: the server takes the
 * repository's pipelines and explanation backgrounds, and closes its Deployer when it closes.
 * `options` may be a function of the repository (to pass it as `repository` too). `close`
 * stops the server, then the repository.
 */
export async function serveDirectory(
  root: string,
  options: ServerOptions | ((repository: FileSystemRepository) => ServerOptions) = {},
): Promise<{
  server: ModelshipServer;
  repository: FileSystemRepository;
  url: string;
  close: () => Promise<void>;
}> {
  const deployer = new Deployer();
  const repository = new FileSystemRepository(root, { settleMs: 0, pollIntervalMs: 60_000 });
  repository.attach(deployer);
  const server = createServer(deployer, {
    pipelines: repository,
    explain: repository,
    closeDeployer: true,
    ...(typeof options === 'function' ? options(repository) : options),
  });
  const close = async () => {
    await server.close();
    await repository.stop();
  };
  try {
    await repository.start();
    const { url } = await server.listen(0, '127.0.0.1');
    return { server, repository, url, close };
  } catch (e) {
    await close();
    throw e;
  }
}
