import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Footguns banned with a message saying what to use instead (STYLE.md habit 12).
const restricted = {
  'no-restricted-properties': [
    'error',
    { object: 'process', property: 'env', message: 'Read the environment only in src/config (loadConfig).' },
  ],
  'no-console': ['error'],
  'no-restricted-globals': [
    'error',
    { name: 'fetch', message: 'Use httpCall from src/providers/http.ts (timeout, AbortSignal, scrubbed errors).' },
  ],
  'no-restricted-syntax': [
    'error',
    {
      selector:
        "BinaryExpression[operator=/^[!=]==?$/] > :matches(Identifier, MemberExpression[computed=false]) > Identifier.property[name=/(secret|signature|Secret|Signature|verifyToken|VerifyToken|TOKEN|SECRET)$/]",
      message: 'Compare secrets, signatures and tokens with safeEqual from src/core/secret-compare.ts.',
    },
    {
      selector: "BinaryExpression[operator=/^[!=]==?$/] > Identifier[name=/(secret|signature|Secret|Signature|verifyToken|VerifyToken)$/]",
      message: 'Compare secrets, signatures and tokens with safeEqual from src/core/secret-compare.ts.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'web/dist/**', '.tmp/**', 'coverage/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', AbortSignal: 'readonly', AbortController: 'readonly', NodeJS: 'readonly', Blob: 'readonly', Headers: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', performance: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', setImmediate: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  { files: ['src/**/*.ts'], rules: restricted },
  { files: ['src/config/**'], rules: { 'no-restricted-properties': 'off' } },
  { files: ['src/cli/**'], rules: { 'no-console': 'off' } },
  { files: ['src/providers/http.ts', 'src/client/**'], rules: { 'no-restricted-globals': 'off' } },
  {
    files: ['web/**/*.{ts,tsx}'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', sessionStorage: 'readonly', localStorage: 'readonly', location: 'readonly', navigator: 'readonly', fetch: 'readonly', HTMLElement: 'readonly', HTMLInputElement: 'readonly', HTMLDialogElement: 'readonly', KeyboardEvent: 'readonly', Event: 'readonly', ReadableStreamDefaultReader: 'readonly' } },
  },
);
