/**
 * The package's main entry: the typed API client (also at `mupzaos-comms/client`). The service
 * itself runs as the `mupza-comms` command, not as an import.
 */
export * from './client/index.ts';
