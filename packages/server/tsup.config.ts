import { packageBuild } from '../../tsup.shared';

// One shared chunk, so `@iproto/server` and `@iproto/server/testing` share one IProtoServer class.
export default packageBuild(['src/index.ts', 'src/testing/index.ts'], { splitting: true });
