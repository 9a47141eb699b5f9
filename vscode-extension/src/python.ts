// The Python extension's active environment for a resource, when ms-python.python is installed.

import * as vscode from "vscode";

interface PythonEnvironmentsApi {
  getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
  resolveEnvironment(env: { path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
}

interface PythonExtensionApi {
  environments?: PythonEnvironmentsApi;
  settings?: { getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] } };
}

const PYTHON_EXTENSION = "ms-python.python";

async function pythonApi(): Promise<PythonExtensionApi | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION);
  if (!extension) {
    return undefined;
  }
  try {
    return extension.isActive ? extension.exports : await extension.activate();
  } catch {
    return undefined;
  }
}

/** The active environment as a command line (executable first), or undefined without the Python extension. */
export async function pythonExtensionInterpreter(resource?: vscode.Uri): Promise<string[] | undefined> {
  const api = await pythonApi();
  if (!api) {
    return undefined;
  }
  try {
    const envs = api.environments;
    if (envs) {
      const active = envs.getActiveEnvironmentPath(resource);
      if (active) {
        const resolved = await envs.resolveEnvironment(active);
        const fsPath = resolved?.executable?.uri?.fsPath;
        if (fsPath) {
          return [fsPath];
        }
      }
    }
    const exec = api.settings?.getExecutionDetails?.(resource)?.execCommand;
    return exec && exec.length > 0 ? exec : undefined;
  } catch {
    return undefined;
  }
}

/** Calls `listener` when the user picks another environment in the Python extension. */
export async function onPythonEnvironmentChange(listener: () => void): Promise<vscode.Disposable | undefined> {
  const api = await pythonApi();
  const event = api?.environments?.onDidChangeActiveEnvironmentPath;
  return event ? event(() => listener()) : undefined;
}
