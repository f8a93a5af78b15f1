/**
 * `npm run serve`: configuration from the environment, then the server, until
 * SIGINT/SIGTERM. A bad setting exits with status 2 and says which variable.
 */
import { ConfigError, loadConfig, withVapidKeys, type Config } from './config';
import { createLogger } from './log';
import { DEFAULT_VAPID_SUBJECT } from './push';
import { startServer } from './server';

let config: Config;
let vapid: ReturnType<typeof withVapidKeys>;
try {
  // The VAPID keys come from the environment or <DATA_DIR>/vapid.json (made on first start).
  vapid = withVapidKeys(loadConfig());
  config = vapid.config;
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(2);
}

const logger = createLogger(config.logLevel, undefined, config.logHashKey ?? undefined);

// Last resort, for logging only: the mechanism that keeps a bad packet from
// crashing the process is the hooks and error listeners, not this.
process.on('uncaughtException', (err, origin) => {
  logger.fatal({ err, origin }, 'uncaught exception');
  process.exit(1);
});
process.on('unhandledRejection', (reason) => {
  logger.fatal({ err: reason }, 'unhandled rejection');
  process.exit(1);
});

const server = await startServer(config, { logger });
logger.info({ url: server.url, brokerUrl: config.brokerUrl, distDir: config.distDir }, 'listening');
// What ICE the app will get, so a missing TURN shows up in the first lines of the log. URLs and TTL only, never the secret.
logger.info(
  {
    stunUrls: config.ice.stunUrls,
    turnUrls: config.ice.turn?.urls ?? [],
    turnTtlSeconds: config.ice.turn?.ttlSeconds ?? null,
    redirectPort: server.redirectPort,
  },
  config.ice.turn ? 'ice: STUN and TURN' : 'ice: no TURN configured (TURN_URLS/TURN_SECRET): calls across strict NATs will fail',
);

// Where the push keys came from (never the keys), so a new pair, which orphans every subscription, shows in the log.
logger.info({ source: vapid.source, file: vapid.file, publicKey: config.push.vapid?.publicKey }, 'web push: VAPID keys');
if (config.push.subject === DEFAULT_VAPID_SUBJECT) {
  logger.warn(
    { subject: config.push.subject },
    "web push: VAPID_SUBJECT is not set; Apple's push service refuses this placeholder, so iPhones won't ring: set it to https://<your domain> or mailto:<you>",
  );
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down');
    // A second signal while closing falls through to Node's default: exit at once.
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  });
}
