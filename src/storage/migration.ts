import type { Knex } from 'knex';
import type { DbType } from '../config';

/** One step of the schema, applied once per database in name order. */
export interface Migration {
  readonly name: string;
  up(db: Knex, type: DbType): Promise<void>;
}

/** An existing table the proxy cannot use as it is; it refuses to change it. */
export class SchemaError extends Error {}
