/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Database and Prefect tests share servers; two workers fit this 2-core machine.
  maxWorkers: 2,
  testTimeout: 30000,
};
