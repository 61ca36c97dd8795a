/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // jose, openid-client, oauth4webapi and cookie ship ESM only: Node loads them with require(esm), Jest's
    // own module loader cannot, so Jest compiles them to CommonJS.
    '^.+/node_modules/(jose|openid-client|oauth4webapi|cookie)/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' }, isolatedModules: true }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose|openid-client|oauth4webapi|cookie)/)'],
  // Database and Prefect tests share servers; two workers fit this 2-core machine.
  maxWorkers: 2,
  testTimeout: 30000,
};
