import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Names that hold secrets, signatures, digests or tokens: verifyToken, TELEGRAM_WEBHOOK_SECRET,
// appSecret, token, headerSecret, expectedDigest, ...
const SECRET_NAME = '/(secret|signature|digest|token)$/i';
const NOT_AGAINST_CONSTANT = ':not(:has(> Literal)):not(:has(> Identifier[name="undefined"]))';
const COMPARE_MESSAGE =
  'Compare secrets, signatures and tokens with safeEqual from src/core/secret-compare.ts.';

// Footguns banned with a message saying what to use instead (STYLE.md habit 12).
const restricted = {
  'no-restricted-properties': [
    'error',
    { object: 'process', property: 'env', message: 'Read the environment only in src/config (loadConfig).' },
  ],
  'no-console': ['error'],
  'no-restricted-globals': [
    'error',
    {
      name: 'fetch',
      message: 'Use httpCall from src/providers/http.ts (timeout, AbortSignal, scrubbed errors).',
    },
  ],
  'no-restricted-syntax': [
    'error',
    // A secret, signature, digest or token compared with == / != (bare name or property, any case)
    // leaks its length and prefix through timing. Comparing one with null/undefined/a literal
    // (presence or a fixed mode string) tells nothing about its value and stays allowed.
    {
      selector: `BinaryExpression[operator=/^[!=]==?$/]${NOT_AGAINST_CONSTANT} > Identifier[name=${SECRET_NAME}]`,
      message: COMPARE_MESSAGE,
    },
    {
      selector: `BinaryExpression[operator=/^[!=]==?$/]${NOT_AGAINST_CONSTANT} > MemberExpression[computed=false] > Identifier.property[name=${SECRET_NAME}]`,
      message: COMPARE_MESSAGE,
    },
    // A constant table keyed by any string, as a plain object, answers prototype keys
    // ("constructor", "__proto__", "toString") for a request's id. Tables keyed by a closed union
    // stay objects (the compiler refuses a plain string index on them).
    {
      selector:
        ':matches(VariableDeclarator[id.name=/^[A-Z][A-Z0-9_]*$/] > Identifier > TSTypeAnnotation, VariableDeclarator[id.name=/^[A-Z][A-Z0-9_]*$/] > TSAsExpression) TSTypeReference[typeName.name="Record"] > TSTypeParameterInstantiation > TSStringKeyword:first-child',
      message:
        'A lookup table keyed by any string must be a Map (or be read with Object.hasOwn): a plain object answers prototype keys such as constructor.',
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'vendor/**',
      'node_modules/**',
      'data/**',
      'web/dist/**',
      'dist/**',
      '.tmp/**',
      'coverage/**',
      'test-artifacts/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        Buffer: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        AbortSignal: 'readonly',
        AbortController: 'readonly',
        NodeJS: 'readonly',
        Blob: 'readonly',
        Headers: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        performance: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        setImmediate: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Type-aware: a promise nobody awaits or catches loses its error, and an async callback where a
    // void one is expected runs unobserved.
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  { files: ['src/**/*.ts'], rules: restricted },
  { files: ['src/config/**'], rules: { 'no-restricted-properties': 'off' } },
  { files: ['src/cli/**'], rules: { 'no-console': 'off' } },
  { files: ['src/providers/http.ts', 'src/client/**'], rules: { 'no-restricted-globals': 'off' } },
  {
    files: ['web/**/*.{ts,tsx}'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        sessionStorage: 'readonly',
        localStorage: 'readonly',
        location: 'readonly',
        navigator: 'readonly',
        fetch: 'readonly',
        HTMLElement: 'readonly',
        HTMLInputElement: 'readonly',
        HTMLDialogElement: 'readonly',
        KeyboardEvent: 'readonly',
        Event: 'readonly',
        ReadableStreamDefaultReader: 'readonly',
      },
    },
  },
);
