import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'charts/', 'config/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Idle memory: fetch and its classes, and the ES module namespace of node:http (its lazy
    // WebSocket getter), each load Node's bundled undici. HTTP goes through src/http/client.ts.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts', 'src/**/*.test-util.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        ...['fetch', 'Request', 'Response', 'Headers', 'FormData', 'WebSocket', 'EventSource'].map(
          (name) => ({
            name,
            message:
              'It loads undici (tens of MiB of idle RSS); use createHttpClient from src/http/client.ts.',
          }),
        ),
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['node:http', 'http'].map((name) => ({
            name,
            allowTypeImports: true,
            message: "Its module namespace loads undici; use process.getBuiltinModule('node:http').",
          })),
          patterns: [
            { group: ['undici', 'undici/*'], message: 'Use createHttpClient from src/http/client.ts.' },
          ],
        },
      ],
    },
  },
);
