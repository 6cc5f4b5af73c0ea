import * as pulumi from "@pulumi/pulumi";

/** What the mocks saw of one resource registration. */
export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>;
  custom: boolean;
}

/**
 * Install Pulumi's mocks for this test process (node's runner gives each test
 * file its own process) and collect every registration.
 */
export async function installMocks(
  computed?: (type: string, inputs: Record<string, unknown>) => Promise<Record<string, unknown> | undefined>,
): Promise<Registered[]> {
  const registered: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? true });
        const extra = (await computed?.(args.type, args.inputs)) ?? {};
        return { id: args.custom ? `${args.name}-id` : undefined, state: { ...args.inputs, ...extra } };
      },
      call: () => ({}),
    },
    "postforge",
    "test",
    false,
  );
  return registered;
}

export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Wait until every given resource has been registered with the (mock) engine. */
export async function settled(resources: pulumi.Resource[]): Promise<void> {
  await Promise.all(resources.map((r) => valueOf(r.urn)));
}
