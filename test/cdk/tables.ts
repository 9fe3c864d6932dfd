/**
 * The three-table deployment the CDK tests synthesize: the reference users table (with features), an orders table
 * in another schema (composite key, decimal, timestamptz, no features) and an events table (json, boolean), given
 * as `-c lakesync:tables=JSON` would give them.
 */

export const THREE_TABLES = [
  {
    schema: 'public',
    name: 'users',
    columns: [
      { name: 'user_id', type: 'int32' },
      { name: 'name', type: 'string' },
      { name: 'city', type: 'string' },
      { name: 'last_login', type: 'date' },
    ],
    primaryKey: ['user_id'],
    features: { id: 'user_id', name: 'name', city: 'city', lastLogin: 'last_login' },
  },
  {
    schema: 'sales',
    name: 'orders',
    columns: [
      { name: 'order_id', type: 'int64' },
      { name: 'line_no', type: 'int16' },
      { name: 'amount', type: 'decimal(12,2)', nullable: false },
      { name: 'placed_at', type: 'timestamptz' },
    ],
    primaryKey: ['order_id', 'line_no'],
  },
  {
    schema: 'public',
    name: 'events',
    columns: [
      { name: 'event_id', type: 'string' },
      { name: 'payload', type: 'json' },
      { name: 'processed', type: 'boolean' },
    ],
    primaryKey: 'event_id',
  },
]

/** The context of the three-table deployment (a JSON string, as on the command line). */
export const THREE_TABLES_CONTEXT = { 'lakesync:tables': JSON.stringify(THREE_TABLES) }
