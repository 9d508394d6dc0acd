import type { Config } from '../config/config.ts';
import type { RuntimeModule } from './runtime.ts';
import { auditModule } from '../audit/module.ts';
import { providersModule } from '../providers/module.ts';
import { lanModule } from '../lan/module.ts';
import { otpModule } from '../otp/module.ts';
import { webhooksModule } from '../webhooks/module.ts';
import { adminModule } from '../admin/module.ts';

/** The service modules a default process runs (LAN hub, webhooks, OTP); each area adds itself here. */
export function defaultModules(_config: Config): RuntimeModule[] {
  return [auditModule(), providersModule(), lanModule(), webhooksModule(), otpModule(), adminModule()];
}
